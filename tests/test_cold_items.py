"""Cold items: the seeded choice of items whose training rows are removed, the item-id
dropout that teaches the candidate tower to embed an item from its attributes, the
cold-item metrics and their category-popularity baseline, and the options that turn them on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from click.testing import CliRunner
from test_multitask_model import _tensors, movielens_arrays

from tfrs_mtl.cli import main
from tfrs_mtl.config import ConfigError
from tfrs_mtl.data.split_config import SplitConfig
from tfrs_mtl.experiments import ExperimentConfig, run_experiment
from tfrs_mtl.experiments.cold_items import (
    ColdItems,
    category_profiles,
    item_class_matrix,
    pick_cold_items,
    ranking_metrics_over_cold_items,
    served_share,
)
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    load_experiment_data,
    split_experiment_data,
)
from tfrs_mtl.models import MultiTaskModel, movielens_config
from tfrs_mtl.models.feature_dropout import TowerInputDropout


def _data(frame: pd.DataFrame, item_key: str = "item_id") -> ExperimentData:
    user_codes, users = pd.factorize(frame["user_id"].astype(str))
    item_codes, items = pd.factorize(frame[item_key].astype(str))
    return ExperimentData(
        frame=frame,
        user_ids=np.asarray(users, dtype=object),
        item_ids=np.asarray(items, dtype=object),
        user_index=user_codes.astype(np.int64),
        item_index=item_codes.astype(np.int64),
        positive_key=None,
        rating_key=None,
        display_key=None,
        data_dir=None,
        has_tfds_keys=False,
        item_key=item_key,
    )


def _cold(items: list[int], num_items: int) -> ColdItems:
    is_cold = np.zeros(num_items, dtype=bool)
    is_cold[items] = True
    return ColdItems(0.1, np.asarray(items, np.int64), is_cold)


# ----- which items are cold --------------------------------------------------------------


def test_the_cold_items_are_a_seeded_share_of_the_training_items() -> None:
    frame = pd.DataFrame({"user_id": np.arange(200) % 7, "item_id": np.arange(200) % 50})
    data = _data(frame)
    train = np.arange(150)  # every item has a training row
    cold = pick_cold_items(data, train, 0.2, seed=3)
    assert len(cold.items) == 10 and np.all(np.diff(cold.items) > 0)
    assert cold.is_cold.sum() == 10 and cold.is_cold[cold.items].all()
    np.testing.assert_array_equal(cold.items, pick_cold_items(data, train, 0.2, seed=3).items)
    assert not np.array_equal(cold.items, pick_cold_items(data, train, 0.2, seed=4).items)
    # Only items with training rows can be cold; at least one item stays warm.
    few = pick_cold_items(data, np.arange(3), 0.9, seed=0)
    assert set(few.items) < {0, 1, 2} and len(few.items) == 2


def test_a_split_with_cold_items_trains_on_none_of_their_rows_and_tests_on_them() -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=80,
        synthetic_num_items=60,
        synthetic_num_events=3000,
        cold_items=0.2,
        split=SplitConfig(method="random"),
    )
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    cold = data.cold_items
    assert cold is not None and len(cold.items) > 0
    assert not cold.is_cold[data.item_index[train]].any()
    assert cold.is_cold[data.item_index[test]].any()
    # Every row of the data is in exactly one part or removed: only cold rows are removed.
    removed = np.setdiff1d(np.arange(len(data.frame)), np.r_[train, test])
    assert cold.is_cold[data.item_index[removed]].all()
    # The users' histories are fitted on what is left.
    assert data.histories is not None
    history_items = set(data.histories.items.tolist())
    cold_ids = {int(item) for item in data.item_ids[cold.items]}
    assert not history_items & cold_ids


# ----- the metrics and the baseline ---------------------------------------------------------


def test_cold_items_are_ranked_among_themselves() -> None:
    frame = pd.DataFrame({"user_id": [0, 1, 0, 1, 0, 1], "item_id": [0, 1, 2, 3, 4, 5]})
    data = _data(frame)
    cold = _cold([3, 4, 5], 6)
    # Test rows: user 0 took item 4, user 1 item 5 (both cold); item 1 is warm.
    test = np.array([1, 4, 5])
    query = np.array([[1.0, 0.0], [0.0, 1.0]])
    right = np.array([[0, 0], [0, 0], [0, 0], [0.1, 0.1], [1.0, 0.0], [0.0, 1.0]])
    assert ranking_metrics_over_cold_items(query, right, data, test, cold) == {
        "recall@20": 1.0,
        "ndcg@20": 1.0,
    }
    # Warm items never compete: a warm item scoring highest changes nothing.
    right[1] = [9.0, 9.0]
    assert ranking_metrics_over_cold_items(query, right, data, test, cold)["ndcg@20"] == 1.0
    # Each user's item ranked last of the three cold items: NDCG@20 = 1 / log2(4).
    wrong = np.array([[0, 0], [0, 0], [0, 0], [0.5, 0.5], [-1.0, 0.0], [0.0, -1.0]])
    found = ranking_metrics_over_cold_items(query, wrong, data, test, cold)
    assert found["recall@20"] == 1.0 and found["ndcg@20"] == pytest.approx(0.5)
    assert ranking_metrics_over_cold_items(query, right, data, np.array([1]), cold) == {}


def test_items_scored_alike_are_not_ranked_by_their_index() -> None:
    # 100 cold items the model cannot tell apart; each of 50 users took one of the first 50
    # (indices follow first appearance, so low ones are the popular ones). By index, 20 of
    # the 50 users would find theirs in the top 20; in a random order about a fifth do.
    frame = pd.DataFrame({"user_id": np.arange(100) % 50, "item_id": np.arange(100)})
    data = _data(frame)
    cold = _cold(list(range(100)), 100)
    found = ranking_metrics_over_cold_items(
        np.ones((50, 1)), np.ones((100, 1)), data, np.arange(50), cold
    )
    assert 0.1 < found["recall@20"] < 0.3


def test_the_served_share_counts_cold_items_in_the_first_places() -> None:
    cold = _cold([2, 3], 5)
    lists = np.array([[2, 0, 1], [3, 2, -1]])
    assert served_share(lists, cold, k=2) == pytest.approx(3 / 4)
    assert served_share(lists, cold, k=3) == pytest.approx(3 / 5)
    assert served_share(np.full((2, 3), -1), cold) == 0.0


def test_item_classes_spread_one_over_an_items_genres_or_category() -> None:
    genres = pd.DataFrame(
        {
            "user_id": [0, 0, 1],
            "movie_id": ["a", "b", "a"],
            "movie_genres": [np.array([1, 3]), np.array([3]), np.array([1, 3])],
        }
    )
    classes = item_class_matrix(_data(genres, "movie_id"), "movie_genres")
    np.testing.assert_allclose(classes, [[0.5, 0.5], [0.0, 1.0]])  # classes 1 and 3
    shop = pd.DataFrame({"user_id": [0, 1, 1], "item_id": [5, 6, 7], "category": ["x", "", "w"]})
    np.testing.assert_allclose(
        item_class_matrix(_data(shop), "category"), [[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    )


def test_category_profiles_by_hand() -> None:
    # User 0 took two items of class 0, user 1 one of class 1; overall 2/3, 1/3.
    frame = pd.DataFrame({"user_id": [0, 0, 1], "item_id": [0, 1, 2]})
    data = _data(frame)
    classes = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    profiles = category_profiles(data, np.arange(3), classes)
    np.testing.assert_allclose(profiles[0], [(2 + 2 / 3) / 3, (1 / 3) / 3])
    np.testing.assert_allclose(profiles[1], [(2 / 3) / 2, (1 + 1 / 3) / 2])
    np.testing.assert_allclose(profiles.sum(axis=1), 1.0)


# ----- the item-id dropout -------------------------------------------------------------------


def _model(item_id_dropout: float) -> MultiTaskModel:
    config = movielens_config(embedding_dim=4, use_full_catalogue=True)
    features = config.features.replace(
        features=tuple(
            feature.replace(dropout=item_id_dropout) if feature.name == "movie_id" else feature
            for feature in config.features.features
        )
    )
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(config.replace(features=features), movielens_arrays())
    model.compile_default()
    return model


def test_the_retrieval_catalogue_reads_dropped_ids_in_training_steps_only() -> None:
    dropout = TowerInputDropout(_model(0.5).config.features, seed=1)
    ids = tf.constant([str(i) for i in range(400)])
    batch = dropout({"movie_id": ids}, True, None)["movie_id"].numpy()
    catalogue = dropout.catalogue({"movie_id": ids}, True, None)["movie_id"].numpy()
    dropped_batch, dropped_catalogue = batch == b"", catalogue == b""
    assert 0.4 < dropped_catalogue.mean() < 0.6
    # A stream of its own: not the batch's draw at the same positions.
    assert (dropped_batch != dropped_catalogue).mean() > 0.3
    assert dropout.catalogue({"movie_id": ids}, False, None)["movie_id"] is ids
    assert (
        TowerInputDropout(_model(0.0).config.features, 1).catalogue({"movie_id": ids}, True, None)[
            "movie_id"
        ]
        is ids
    )


def test_a_training_step_scores_the_catalogue_with_dropped_item_ids() -> None:
    model = _model(0.5)
    embed = model.embed_candidates
    read: list[tuple[np.ndarray, bool]] = []

    def recording(features, training=False):
        read.append((features["movie_id"].numpy(), bool(training)))
        return embed(features, training)

    model.embed_candidates = recording
    batch = _tensors(movielens_arrays())
    for _ in range(3):
        model.train_step(batch)
    catalogue = np.concatenate([ids for ids, training in read if training])
    assert 0 < (catalogue == b"").sum() < len(catalogue)
    read.clear()
    model.test_step(batch)
    assert read and all((ids != b"").all() for ids, _ in read)


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_an_unknown_item_learns_an_embedding_only_with_item_id_dropout(rate: float) -> None:
    model = _model(rate)
    embeddings = model.shared_embeddings
    unknown = int(embeddings.lookup("movie_id", tf.constant(["never seen"]))[0])
    table = embeddings.embedding_table(embeddings.spec.feature("movie_id").table_name)
    before = table.numpy()
    batch = _tensors(movielens_arrays())
    for _ in range(3):
        model.train_step(batch)
    after = table.numpy()
    assert not np.allclose(before[:unknown], after[:unknown])  # the known items learn
    if rate:
        assert not np.allclose(before[unknown], after[unknown])
    else:
        np.testing.assert_array_equal(before[unknown], after[unknown])


def test_the_option_sets_the_item_ids_dropout_on_every_recipe() -> None:
    for dataset in ("movielens-100k", "synthetic-ecommerce"):
        config = ExperimentConfig(dataset=dataset, item_id_dropout=0.3)
        model_config = config.model_config()
        rates = {feature.name: feature.dropout for feature in model_config.features.features}
        assert rates[model_config.candidate_id_feature] == 0.3
        assert rates[model_config.query_id_feature] == config.user_id_dropout
    shop = ExperimentConfig(dataset="synthetic-ecommerce", user_history_length=0)
    rates = {
        f.name: f.dropout
        for f in shop.replace(item_id_dropout=0.3).model_config().features.features
    }
    assert rates["item_id"] == 0.3 and rates["user_id"] == 0.0
    assert ExperimentConfig().model_config().features.features[0].dropout in (0.0, 0.5)


# ----- options and a small run ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--cold-items", "1.0", "cold_items=1.0 is not in [0, 1)"),
        ("--cold-items", "-0.1", "cold_items=-0.1 is not in [0, 1)"),
        ("--item-id-dropout", "1", "Invalid value for '--item-id-dropout'"),
    ],
)
def test_bad_values_are_refused_in_one_line(
    tmp_path, option: str, value: str, message: str
) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", option, value, "--out", str(out)])
    assert result.exit_code != 0, result.output
    assert message in result.output
    assert not out.exists()
    with pytest.raises(ConfigError, match=r"item_id_dropout=1\.0 is not in"):
        ExperimentConfig(item_id_dropout=1.0)


def test_a_small_shop_run_scores_the_cold_items_beside_the_baseline() -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=80,
        synthetic_num_items=40,
        synthetic_num_events=2000,
        epochs=1,
        baselines=("popularity",),
        validation_fraction=0,
        validate_each_epoch=False,
        cold_items=0.25,
        item_id_dropout=0.3,
    )
    result = run_experiment(config, None, progress=False)
    metrics = result.metrics
    assert metrics["cold_items/num_items"] == 10
    assert metrics["cold_items/num_test_interactions"] > 0
    for key in (
        "cold_items/recall@20",
        "cold_items/ndcg@20",
        "cold_items/served_recall@20",
        "cold_items/served_share@10",
        "cold_items/warm_served_ndcg@10",
        "baselines/category_popularity/cold_items/recall@20",
        "baselines/category_popularity/cold_items/ndcg@20",
    ):
        assert 0.0 <= metrics[key] <= 1.0, key
    # The index serves every item; the cold ones are unknown to the model's vocabulary.
    ids = result.catalogue["item_id"]
    assert len(ids) == 40
    assert (~result.recommender.model.known_candidate_ids(ids)).sum() >= 10


# ----- the catalogue term ------------------------------------------------------------


def test_the_catalogue_term_reads_dropped_features_and_whole_labels() -> None:
    model = _model(0.5)  # item ids dropped at 0.5
    assert model.config.task("genres").trains_on_catalogue
    heads = model.side_head_logits
    read: list[dict[str, np.ndarray]] = []

    def recording(task, features, tower_output, training=False, head_only=False):
        if head_only:
            read.append({name: features[name].numpy() for name in ("movie_id", "movie_genres")})
        return heads(task, features, tower_output, training, head_only)

    model.side_head_logits = recording
    whole = model.catalogue_attributes.features
    model.train_step(_tensors(movielens_arrays()))
    assert read
    ids = read[0]["movie_id"]
    assert 0 < (ids == b"").sum() < len(ids)
    assert np.all((ids == whole["movie_id"].numpy()) | (ids == b""))
    # The genres are the label: read whole.
    np.testing.assert_array_equal(read[0]["movie_genres"], whole["movie_genres"].numpy())
