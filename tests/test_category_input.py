"""`category_input`: the e-commerce candidate tower reads the item's category, so an item
absent from training is ranked by its category; the option, its refusals and its search."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from click.testing import CliRunner

from tfrs_mtl.cli import main
from tfrs_mtl.config import ConfigError
from tfrs_mtl.experiments import ExperimentConfig, run_experiment
from tfrs_mtl.experiments.experiment_config import (
    CATEGORY_INPUT_ITEM_ID_DROPOUT,
    SPARSE_ITEMS_SHARE,
)
from tfrs_mtl.experiments.experiment_data import seen_once_share
from tfrs_mtl.experiments.tuning import search_space
from tfrs_mtl.models import MultiTaskModel, build_dataset, ecommerce_config


def _candidate_features(config: ExperimentConfig) -> set[str]:
    features = config.model_config().features
    return {feature.name for feature in features.side_features("candidate")}


def test_the_candidate_tower_reads_the_category_and_no_task_predicts_it() -> None:
    default = ExperimentConfig(dataset="synthetic-ecommerce")
    assert "category" not in _candidate_features(default)
    assert "category" in {task.name for task in default.model_config().tasks}
    assert default.resolved_item_id_dropout == 0.0
    config = default.replace(category_input=True)
    assert {"item_id", "brand", "category"} <= _candidate_features(config)
    assert "category" not in {task.name for task in config.model_config().tasks}
    assert "category" not in config.task_names
    assert "price" in config.task_names  # the other attribute task stays
    # It comes with the item-id dropout that teaches the tower id-less items, unless set.
    assert config.resolved_item_id_dropout == CATEGORY_INPUT_ITEM_ID_DROPOUT > 0
    rates = {f.name: f.dropout for f in config.model_config().features.features}
    assert rates["item_id"] == CATEGORY_INPUT_ITEM_ID_DROPOUT
    assert config.replace(item_id_dropout=0.0).resolved_item_id_dropout == 0.0


SHOP_COLUMNS = ("user_id", "item_id", "click", "category", "brand")


@pytest.mark.parametrize(
    ("dataset", "columns", "given", "share", "expected"),
    [
        ("synthetic-ecommerce", SHOP_COLUMNS, None, SPARSE_ITEMS_SHARE, True),
        ("synthetic-ecommerce", SHOP_COLUMNS, None, SPARSE_ITEMS_SHARE - 0.01, False),
        ("synthetic-ecommerce", SHOP_COLUMNS, False, 0.9, False),
        ("synthetic-ecommerce", SHOP_COLUMNS, True, 0.0, True),
        ("synthetic-ecommerce", SHOP_COLUMNS[:-2], None, 0.9, False),  # no categories
        ("movielens-100k", ("user_id", "movie_id"), None, 0.9, False),
    ],
)
def test_by_default_it_follows_the_share_of_items_seen_once(
    dataset: str, columns: tuple, given: bool | None, share: float, expected: bool
) -> None:
    config = ExperimentConfig(dataset=dataset, category_input=given)
    assert config.with_data_shape(columns, share).category_input is expected


def test_the_share_of_interactions_whose_item_has_no_other() -> None:
    frame = pd.DataFrame({"click": [1, 1, 1, 0, 1, 1]})
    data = types.SimpleNamespace(
        item_index=np.array([0, 0, 1, 2, 3, 4]),
        num_items=5,
        positives=lambda positions: positions[frame["click"].to_numpy()[positions] > 0],
    )
    # Item 0 twice, items 1, 3, 4 once; item 2's row is no interaction.
    assert seen_once_share(data, np.arange(6)) == pytest.approx(3 / 5)  # type: ignore[arg-type]
    assert seen_once_share(data, np.array([0, 1])) == 0.0  # type: ignore[arg-type]
    assert seen_once_share(data, np.array([3])) == 0.0  # type: ignore[arg-type]


def test_a_shop_of_items_seen_once_reads_the_categories_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=40,
        synthetic_num_items=5000,
        synthetic_num_events=400,
        epochs=1,
        baselines=(),
        validation_fraction=0,
        validate_each_epoch=False,
    )
    result = run_experiment(config, None, progress=True)
    assert result.config == config  # the run's config stays as given
    assert "category" in result.model.candidate_feature_names
    rates = {f.name: f.dropout for f in result.model.config.features.features}
    assert rates["item_id"] == CATEGORY_INPUT_ITEM_ID_DROPOUT
    assert not any(name.startswith("category/") for name in result.metrics)
    assert "the candidate tower reads the item's category" in capsys.readouterr().err
    dense = run_experiment(
        config.replace(synthetic_num_items=40, synthetic_num_events=2000), None, progress=False
    )
    assert "category" not in dense.model.candidate_feature_names
    assert "category" in {task.name for task in dense.model.config.tasks}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dataset": "movielens-100k"}, "trains no category task"),
        (
            {"dataset": "synthetic-ecommerce", "tasks": ("retrieval", "category")},
            "no task can predict it",
        ),
    ],
)
def test_refused_where_it_cannot_apply(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig(category_input=True, **changes)


def test_the_option_reaches_the_config_and_is_refused_in_one_line_on_movielens(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import tfrs_mtl.experiments

    seen = []

    def run(config: ExperimentConfig, *args: object, **kwargs: object) -> None:
        seen.append(config)
        raise ConfigError("stopped before running")

    monkeypatch.setattr(tfrs_mtl.experiments, "run_experiment", run)
    out = tmp_path / "run"
    shop = ["train", "--dataset", "synthetic-ecommerce", "--out", str(out)]
    for option, expected in (("--category-input", True), ("--no-category-input", False)):
        result = CliRunner().invoke(main, [*shop, option])
        assert result.output == "Error: stopped before running\n"
        assert seen.pop().category_input is expected
    result = CliRunner().invoke(
        main, ["train", "--dataset", "movielens-100k", "--category-input", "--out", str(out)]
    )
    assert result.exit_code == 1 and not seen
    assert result.output.startswith("Error: category_input=True")
    assert len(result.output.splitlines()) == 1
    assert not out.exists()


class _Data:
    """What `search_space` reads of the experiment data."""

    def __init__(self, columns: list[str]) -> None:
        self.frame = pd.DataFrame(columns=columns)
        self.num_items = 100
        self.history_length = 100


def test_tune_searches_it_where_the_items_have_categories() -> None:
    shop = ExperimentConfig(dataset="synthetic-ecommerce")
    columns = ["user_id", "item_id", "click", "category", "brand"]
    space = search_space(shop, _Data(columns))  # type: ignore[arg-type]
    assert {"category_input", "item_id_dropout"} <= set(space)
    without = search_space(shop, _Data([c for c in columns if c != "category"]))  # type: ignore[arg-type]
    assert not {"category_input", "item_id_dropout"} & set(without)
    movies = ExperimentConfig(dataset="movielens-100k")
    assert "category_input" not in search_space(movies, _Data(["user_id", "movie_id"]))  # type: ignore[arg-type]


def _two_category_arrays() -> dict[str, np.ndarray]:
    """Users 0-3 click items of category `a` only, users 4-7 items of `b`; one brand and one
    price, so the category is the only attribute that tells the two groups' items apart."""
    rng = np.random.default_rng(0)
    users = rng.integers(0, 8, 400)
    group = np.where(users < 4, "a", "b")
    items = np.char.add(group.astype(str), rng.integers(0, 10, 400).astype(str))
    ones = np.ones(400, np.float32)
    return {
        "user_id": users.astype(str).astype(object),
        "item_id": items.astype(object),
        "brand": np.full(400, "x", dtype=object),
        "category": group.astype(object),
        "price": ones * 10,
        "click": ones,
        "cart": ones * (rng.random(400) < 0.3),
        "purchase": ones * (rng.random(400) < 0.1),
    }


def _new_item_scores(category_input: bool) -> np.ndarray:
    """`[8 users, 2]`: each user's retrieval score of two items absent from training, of
    category `a` and `b`, after training with a third of the item ids dropped."""
    config = ecommerce_config(embedding_dim=8, use_price=False, category_input=category_input)
    features = config.features.replace(
        features=tuple(
            feature.replace(dropout=0.3) if feature.name == "item_id" else feature
            for feature in config.features.features
        )
    )
    arrays = _two_category_arrays()
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(config.replace(features=features), arrays)
    model.compile_default()
    model.fit(build_dataset(arrays, 64, shuffle=True, seed=0), epochs=15, verbose=0)
    users = {"user_id": tf.constant([str(u) for u in range(8)])}
    new = {
        "item_id": tf.constant(["new-a", "new-b"]),
        "brand": tf.constant(["x", "x"]),
        "category": tf.constant(["a", "b"]),
    }
    query = model.query_tower(users).numpy()
    candidates = model.candidate_tower(new).numpy()
    return query @ candidates.T


def test_an_item_absent_from_training_is_ranked_by_its_category() -> None:
    scores = _new_item_scores(category_input=True)
    prefers_a = scores[:, 0] > scores[:, 1]
    assert prefers_a[:4].all() and not prefers_a[4:].any(), scores
    # Without it both new items read the unknown id alone: one embedding, one score.
    np.testing.assert_allclose(*_new_item_scores(category_input=False).T, rtol=1e-6)
