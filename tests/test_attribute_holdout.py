"""Attribute completion on held-out items: the seeded, stratified choice of the items, the
masks that keep their attributes out of training, the label-frequency and item-kNN
baselines, the completion metrics and the option that turns it on."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from click.testing import CliRunner
from test_multitask_model import _tensors, ecommerce_arrays, movielens_arrays

from tfrs_mtl.cli import main
from tfrs_mtl.config import ConfigError
from tfrs_mtl.evaluation.attribute_completion import (
    class_means,
    co_interaction_neighbours,
    embedding_neighbours,
    label_frequencies,
    most_frequent_classes,
    multiclass_completion_metrics,
    multilabel_completion_metrics,
    propagate_labels,
    regression_completion_metrics,
)
from tfrs_mtl.experiments import ExperimentConfig, run_experiment
from tfrs_mtl.experiments.attribute_evaluation import attribute_baseline_metrics
from tfrs_mtl.experiments.attribute_holdout import (
    ATTRIBUTE_WEIGHT_KEY,
    HIDDEN_VALUE,
    AttributeHoldout,
    ItemAttribute,
    fit_attribute_holdout,
    label_strata,
    stratified_choice,
    with_attribute_weights,
)
from tfrs_mtl.models import MultiTaskModel, ecommerce_config, movielens_config

# ----- which items are held out ------------------------------------------------------------


def test_the_choice_is_seeded_and_proportional_in_every_stratum() -> None:
    strata = np.repeat([0, 1, 2, 3], [40, 25, 10, 3])
    chosen = stratified_choice(strata, 0.2, seed=7)
    # round(0.2 * n) of each stratum, halves up: 8, 5, 2 and 1 (0.6).
    assert np.bincount(strata[chosen], minlength=4).tolist() == [8, 5, 2, 1]
    np.testing.assert_array_equal(chosen, stratified_choice(strata, 0.2, seed=7))
    assert not np.array_equal(chosen, stratified_choice(strata, 0.2, seed=8))
    assert np.bincount(strata[stratified_choice(strata, 0.2, seed=8)], minlength=4).tolist() == [
        8,
        5,
        2,
        1,
    ]


def test_a_multi_label_item_is_stratified_by_its_most_frequent_class() -> None:
    genres = np.array([[0, 2], [1, -1], [2, 1], [-1, -1], [0, -1], [1, -1]])
    # Items per class: 0 -> 2, 1 -> 3, 2 -> 2; ties go to the lower class; no class: -1.
    strata = label_strata(
        (ItemAttribute("genres", "movie_genres", "multi_label", 3),), {"movie_genres": genres}
    )
    assert strata.tolist() == [0, 1, 1, -1, 0, 1]
    categories = np.array(["b", "a", "b"], dtype=object)
    by_category = label_strata(
        (ItemAttribute("category", "category", "multi_class"),), {"category": categories}
    )
    assert by_category.tolist() == [1, 0, 1]


def _shop_frame() -> pd.DataFrame:
    items = np.repeat(np.arange(10), 2)
    return pd.DataFrame(
        {
            "user_id": np.tile(["u1", "u2"], 10),
            "item_id": items.astype(str),
            "category": [f"c{item % 2}" for item in items],
            "brand": [f"b{item % 4}" for item in items],
            "price": (10.0 * (items + 1)).astype(np.float32),
        }
    )


SHOP_ATTRIBUTES = (
    ItemAttribute("category", "category", "multi_class"),
    ItemAttribute("price", "price", "regression"),
    ItemAttribute("brand", "brand", "multi_class"),
)


def test_held_out_rows_read_every_attribute_as_unknown_and_weigh_nothing() -> None:
    frame = _shop_frame()
    item_index = np.repeat(np.arange(10), 2)
    train = np.arange(20)
    holdout = fit_attribute_holdout(frame, item_index, 10, train, SHOP_ATTRIBUTES, 0.2, seed=3)
    held = holdout.heldout_items
    # One item of each category (5 items each, 0.2 * 5 = 1).
    assert sorted(frame["category"].to_numpy()[2 * held]) == ["c0", "c1"]
    arrays = {name: frame[name].to_numpy() for name in frame.columns}
    original = {name: values.copy() for name, values in arrays.items()}
    masked = holdout.mask(arrays, item_index)
    hidden_rows = np.isin(item_index, held)
    np.testing.assert_array_equal(masked[ATTRIBUTE_WEIGHT_KEY], (~hidden_rows).astype(np.float32))
    assert (
        set(masked["category"][hidden_rows]) == set(masked["brand"][hidden_rows]) == {HIDDEN_VALUE}
    )
    known_prices = 10.0 * (np.setdiff1d(np.arange(10), held) + 1)
    assert set(masked["price"][hidden_rows]) == {np.float32(np.median(known_prices))}
    np.testing.assert_array_equal(masked["price"][~hidden_rows], arrays["price"][~hidden_rows])
    for name, values in arrays.items():  # the input is not mutated
        np.testing.assert_array_equal(values, original[name])
    # The true values are kept for scoring.
    np.testing.assert_array_equal(holdout.item_values["price"][holdout.heldout], 10.0 * (held + 1))


def test_a_holdout_that_leaves_no_known_item_is_refused() -> None:
    frame = _shop_frame().iloc[:2]
    with pytest.raises(ConfigError, match="holds out all 1 training items"):
        fit_attribute_holdout(
            frame, np.zeros(2, np.int64), 1, np.arange(2), SHOP_ATTRIBUTES, 0.9, 0
        )


# ----- no held-out label reaches a loss ------------------------------------------------------


def _initial_weights(config, arrays: dict) -> list[np.ndarray]:
    """A model's initial weights, scaled up so that its heads' logits are far from 0 (where
    every label costs about the same)."""
    tf.keras.utils.set_random_seed(0)
    return [5.0 * weight for weight in MultiTaskModel.from_data(config, arrays).get_weights()]


def _training_losses(config, arrays: dict, weights: list[np.ndarray]) -> dict[str, float]:
    """Each task's training-step loss on `arrays` of a model fitted on `arrays` (vocabularies,
    statistics, catalogue) and holding `weights`."""
    model = MultiTaskModel.from_data(config, arrays)
    model.set_weights(weights)
    losses = model.task_losses(_tensors(arrays), training=True)
    return {name: float(value) for name, value in losses.items()}


def test_held_out_genres_never_reach_the_loss_batch_or_catalogue() -> None:
    config = with_attribute_weights(movielens_config(embedding_dim=4))
    genres = config.task("genres")
    assert genres.sample_weight_key == ATTRIBUTE_WEIGHT_KEY
    assert genres.loss_over == "batch_and_catalogue" and genres.private_embedding_dim > 0
    arrays = movielens_arrays()
    held = np.isin(arrays["movie_id"], ["1", "4", "7"])
    arrays[ATTRIBUTE_WEIGHT_KEY] = (~held).astype(np.float32)
    weights = _initial_weights(config, arrays)
    base = _training_losses(config, arrays, weights)
    changed = dict(arrays, movie_genres=arrays["movie_genres"].copy())
    changed["movie_genres"][held] = [3, 11]
    assert _training_losses(config, changed, weights)["genres"] == pytest.approx(
        base["genres"], abs=1e-7
    )
    # A known movie's genres do reach it (the check above can fail).
    known = dict(arrays, movie_genres=arrays["movie_genres"].copy())
    known["movie_genres"][~held] = [3, 11]
    assert abs(_training_losses(config, known, weights)["genres"] - base["genres"]) > 1e-3


def test_held_out_categories_and_prices_never_reach_the_loss_nor_the_statistics() -> None:
    config = with_attribute_weights(ecommerce_config(embedding_dim=4))
    arrays = ecommerce_arrays()
    held = np.isin(arrays["item_id"], ["2", "5", "9"])
    arrays[ATTRIBUTE_WEIGHT_KEY] = (~held).astype(np.float32)
    weights = _initial_weights(config, arrays)
    base = _training_losses(config, arrays, weights)
    changed = dict(arrays, category=arrays["category"].copy(), price=arrays["price"].copy())
    changed["category"][held] = "a category no known item has"
    changed["price"][held] = 1e4
    # Held-out rows shape neither the label vocabulary nor the price's mean and spread.
    assert (
        MultiTaskModel.fit_inputs(config, changed)[1]
        == MultiTaskModel.fit_inputs(config, arrays)[1]
    )
    found = _training_losses(config, changed, weights)
    for name in ("category", "price"):
        assert found[name] == pytest.approx(base[name], abs=1e-7)
    known = dict(arrays, price=arrays["price"].copy())
    known["price"][~held] = known["price"][~held][::-1]  # the same mean and spread
    assert abs(_training_losses(config, known, weights)["price"] - base["price"]) > 1e-3


# ----- baselines and metrics ---------------------------------------------------------------


def test_co_interaction_neighbours_count_shared_users() -> None:
    users = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    items = np.array([0, 1, 2, 0, 1, 0, 3, 0])  # user 2 took item 0 twice: counted once
    known = np.array([False, True, True, True])
    neighbours, weights = co_interaction_neighbours(users, items, 4, [0, 3], known, 3)
    assert neighbours.tolist() == [[1, 2, 3], [-1, -1, -1]]  # item 3 shares user 2 with 0 only
    assert weights.tolist() == [[2, 1, 1], [0, 0, 0]]
    only_two, _ = co_interaction_neighbours(users, items, 4, [0], known & [1, 1, 0, 1], 2)
    assert only_two.tolist() == [[1, 3]]


def test_item_knn_recovers_planted_labels_that_label_frequency_cannot() -> None:
    rng = np.random.default_rng(0)
    # Items 0-9 are class 0 and watched by users 0-29; items 10-19 class 1, users 30-49.
    users, items = [], []
    for user in range(50):
        pool = np.arange(10) if user < 30 else np.arange(10, 20)
        taken = rng.choice(pool, 4, replace=False)
        users += [user] * 4
        items += taken.tolist()
    labels = np.zeros((20, 2))
    labels[:10, 0] = labels[10:, 1] = 1
    heldout = np.array([0, 1, 10, 11])
    known = np.ones(20, dtype=bool)
    known[heldout] = False
    neighbours, weights = co_interaction_neighbours(
        np.array(users), np.array(items), 20, heldout, known
    )
    frequencies = label_frequencies(labels[known])
    knn = propagate_labels(neighbours, weights, labels, frequencies)
    truth = labels[heldout].argmax(axis=1)
    assert multiclass_completion_metrics(truth, knn, top_k=1)["accuracy"] == 1.0
    frequency = np.repeat(frequencies[np.newaxis], len(heldout), axis=0)
    assert multiclass_completion_metrics(truth, frequency, top_k=1)["accuracy"] == 0.5


def test_embedding_neighbours_rank_known_items_by_cosine() -> None:
    embeddings = np.array([[1.0, 0.0], [2.0, 0.1], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [3.0, 0.0]])
    known = np.array([False, True, True, True, True, False])
    neighbours, weights = embedding_neighbours(embeddings, [0, 2], known, 3, temperature=0.1)
    # Item 5 points the same way as item 0 but is not known; the zero row is as dissimilar
    # as an orthogonal one (ties: lower index first); item 2 is not its own neighbour.
    assert neighbours.tolist() == [[1, 3, 2], [3, 1, 4]]
    cosine = np.array([2.0 / np.hypot(2.0, 0.1), 1 / np.sqrt(2), 0.0])
    assert weights[0] == pytest.approx(np.exp((cosine - cosine[0]) / 0.1))
    second = 0.1 / np.hypot(2.0, 0.1)
    assert weights[1, :2] == pytest.approx([1.0, np.exp((second - 1 / np.sqrt(2)) / 0.1)])
    # Fewer known items than neighbours: padded -1 / 0; a query is never its own neighbour.
    few, few_weights = embedding_neighbours(embeddings, [1], known, 5)
    assert few.tolist() == [[3, 2, 4, -1, -1]] and few_weights[0, 3:].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="temperature"):
        embedding_neighbours(embeddings, [0], known, 3, temperature=0.0)


def test_embedding_neighbours_find_planted_classes_that_co_interaction_misses() -> None:
    # Two classes of items, 0-9 and 10-19, each a tight cluster in the item space; the
    # held-out items share no user with any known item (no co-interaction neighbour).
    rng = np.random.default_rng(0)
    centres = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    embeddings = centres[np.arange(20) // 10] + rng.normal(0.0, 0.1, (20, 3))
    labels = np.zeros((20, 2))
    labels[:10, 0] = labels[10:, 1] = 1
    heldout = np.array([0, 1, 10, 11])
    known = np.ones(20, dtype=bool)
    known[heldout] = False
    fallback = label_frequencies(labels[known])
    truth = labels[heldout].argmax(axis=1)
    neighbours, weights = embedding_neighbours(embeddings, heldout, known)
    voted = propagate_labels(neighbours, weights, labels, fallback)
    assert multiclass_completion_metrics(truth, voted, top_k=1)["accuracy"] == 1.0
    users, items = np.array([0, 0, 1, 1]), np.array([0, 1, 10, 11])
    co_neighbours, co_weights = co_interaction_neighbours(users, items, 20, heldout, known)
    co_voted = propagate_labels(co_neighbours, co_weights, labels, fallback)
    assert multiclass_completion_metrics(truth, co_voted, top_k=1)["accuracy"] == 0.5


def test_class_means_average_the_known_items_of_each_class() -> None:
    values = np.array([10.0, 20.0, 30.0, 1000.0, 5.0, 7.0])
    classes = np.array(["a", "a", "b", "a", "c", "d"])
    known = np.array([True, True, True, False, False, True])
    # Item 3's own value is not read; class c has no known item: the known mean.
    predicted = class_means(values, classes, known)
    assert predicted.tolist() == [15.0, 15.0, 30.0, 15.0, 16.75, 7.0]
    assert class_means(values, classes, known, fallback=0.0)[4] == 0.0
    with pytest.raises(ValueError, match="no known item"):
        class_means(values, classes, np.zeros(6, dtype=bool))


def test_category_mean_prices_an_item_by_the_category_its_co_interactions_give_it() -> None:
    # Items 0-9 and 21 are category "a" (price 10; 30 for items 8 and 9), items 10-20 "b"
    # (price 100). Users 0-29 take items of 0-9, users 30-49 items of 10-14. Items 0, 1, 10,
    # 11 and 20 are held out; item 20 has no user, so the most frequent known category,
    # "a" (9 known items against 8), prices it.
    rng = np.random.default_rng(0)
    users, items = [], []
    for user in range(50):
        pool = np.arange(10) if user < 30 else np.arange(10, 15)
        users += [user] * 2
        items += rng.choice(pool, 2, replace=False).tolist()
    categories = np.array(["a"] * 10 + ["b"] * 11 + ["a"])
    prices = np.array([10.0] * 8 + [30.0] * 2 + [100.0] * 11 + [10.0])
    heldout = np.zeros(22, dtype=bool)
    heldout[[0, 1, 10, 11, 20]] = True
    holdout = AttributeHoldout(
        share=5 / 22,
        attributes=(
            ItemAttribute("category", "category", "multi_class"),
            ItemAttribute("price", "price", "regression"),
        ),
        catalogue_items=np.arange(22),
        heldout=heldout,
        item_values={"category": categories, "price": prices},
        fill_values={},
        hidden=heldout,
    )
    pairs = (np.array(users), np.array(items))
    data = SimpleNamespace(attribute_holdout=holdout, num_items=22, pairs=lambda _rows: pairs)
    found = attribute_baseline_metrics(data, np.arange(len(users)))
    known_a = (7 * 10.0 + 2 * 30.0) / 9  # items 2-9 and 21
    truth = prices[heldout]

    def rmse(predicted: list[float]) -> float:
        return float(np.sqrt(np.mean((truth - np.array(predicted)) ** 2)))

    assert found["category_mean"]["price"]["rmse"] == pytest.approx(
        rmse([known_a, known_a, 100.0, 100.0, known_a])
    )
    # The reference reads the hidden category: item 20 gets its own category's mean.
    assert found["category_given"]["price"]["rmse"] == pytest.approx(
        rmse([known_a, known_a, 100.0, 100.0, 100.0])
    )
    assert found["category_mean"]["price"]["rmse"] > found["category_given"]["price"]["rmse"]


def test_an_item_without_neighbours_gets_the_fallback() -> None:
    scores = propagate_labels(
        np.array([[1, 2], [-1, -1]]),
        np.array([[3.0, 1.0], [0.0, 0.0]]),
        np.array([[0.0], [10.0], [20.0]]),
        fallback=np.array([7.0]),
    )
    assert scores[:, 0].tolist() == [12.5, 7.0]  # (3 * 10 + 1 * 20) / 4


def test_multilabel_metrics_by_hand() -> None:
    labels = np.array([[1, 0], [0, 1], [1, 1]])
    scores = np.array([[0.9, 0.2], [0.6, 0.7], [0.4, 0.8]])
    found = multilabel_completion_metrics(labels, scores)
    # Predicted (> 0.5): [1,0], [1,1], [0,1]. Class 0: TP 1, FP 1, FN 1; class 1: TP 2.
    assert found["micro_f1"] == pytest.approx(6 / 8)  # 2*3 / (2*3 + 1 + 1)
    assert found["macro_f1"] == pytest.approx((0.5 + 1.0) / 2)
    # Class 0: 0.9 beats 0.6, 0.4 does not; class 1: both positives beat 0.2.
    assert found["auc"] == pytest.approx((0.5 + 1.0) / 2)
    constant = multilabel_completion_metrics(
        labels, np.tile([0.6, 0.3], (3, 1)), predicted=np.tile([True, False], (3, 1))
    )
    # Class 0 for all: TP 2, FP 1; class 1 missed twice: micro-F1 2*2 / (2*2 + 1 + 2).
    assert constant["auc"] == 0.5 and constant["micro_f1"] == pytest.approx(4 / 7)


def test_multiclass_and_regression_metrics_by_hand() -> None:
    labels = np.array([0, 2, 1, -1])
    scores = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.6, 0.1, 0.3], [0.3, 0.3, 0.4]])
    found = multiclass_completion_metrics(labels, scores, top_k=2)
    # Best: 0, 2, 0, 2 (two right); the top 2 of the third row are 0 and 2; an unknown
    # class (-1) is never right.
    assert found == {"accuracy": 0.5, "top2_accuracy": 0.5}
    regression = regression_completion_metrics(np.array([10.0, 20.0, 0.0]), [12.0, 15.0, 1.0])
    assert regression["rmse"] == pytest.approx(np.sqrt((4 + 25 + 1) / 3))
    assert regression["mape"] == pytest.approx((2 / 10 + 5 / 20) / 2)  # label 0 left out


def test_label_frequency_predicts_the_usual_number_of_most_frequent_classes() -> None:
    known = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 1]])
    assert label_frequencies(known).tolist() == [0.75, 0.5, 0.25, 0.25]
    # 1.5 classes per item rounds to 2: the two most frequent.
    assert most_frequent_classes(known).tolist() == [True, True, False, False]


# ----- the option and a run ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-0.1", "attribute_holdout=-0.1 is not in [0, 1)"),
        ("1.0", "attribute_holdout=1.0 is not in [0, 1)"),
        ("nan", "attribute_holdout: expected a finite number, got nan"),
    ],
)
def test_bad_shares_are_refused_in_one_line(tmp_path, value: str, message: str) -> None:
    for command in ("train", "cv"):
        out = tmp_path / command
        result = CliRunner().invoke(
            main, [command, "--attribute-holdout", value, "--out", str(out)]
        )
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {message}") and result.output.count("\n") == 1
        assert not out.exists()


def test_data_without_item_attributes_refuses_a_holdout(tmp_path) -> None:
    folder = tmp_path / "retailrocket"  # the processed form: no category, brand or price
    folder.mkdir()
    rows = "".join(f"{user}\t{item}\t1\n" for user in range(1, 40) for item in range(1, 4))
    for name in ("view_ecommerce.dat", "add_to_cart_ecommerce.dat", "purchase_ecommerce.dat"):
        (folder / name).write_text("visitorid\titemid\tevent\n" + rows)
    out = tmp_path / "run"
    arguments = ["--dataset", "retailrocket", "--data-dir", str(folder), "--out", str(out)]
    result = CliRunner().invoke(main, ["train", *arguments, "--attribute-holdout", "0.2", "-q"])
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: attribute_holdout=0.2: retailrocket has no item attribute columns to hide"
    )
    assert not out.exists()


def test_the_option_reaches_the_config(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import tfrs_mtl.experiments

    seen = []

    def run(config: ExperimentConfig, *args: object, **kwargs: object) -> None:
        seen.append(config)
        raise ConfigError("stopped before running")

    monkeypatch.setattr(tfrs_mtl.experiments, "run_experiment", run)
    out = str(tmp_path / "run")
    result = CliRunner().invoke(main, ["train", "--attribute-holdout", "0.2", "--out", out])
    assert result.output == "Error: stopped before running\n"
    assert seen[0].attribute_holdout == 0.2
    with pytest.raises(ConfigError, match="attribute_single_task is scored on the held-out"):
        ExperimentConfig(baselines=("attribute_single_task",))


def test_a_small_shop_run_scores_the_held_out_items() -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=80,
        synthetic_num_items=40,
        synthetic_num_events=2000,
        epochs=1,
        baselines=(),
        validation_fraction=0,
        validate_each_epoch=False,
        attribute_holdout=0.25,
    )
    result = run_experiment(config, None, progress=False)
    metrics = result.metrics
    held = int(metrics["attribute_holdout/num_items"])
    assert held > 0 and held + metrics["attribute_holdout/num_known_items"] <= 40
    for key in (
        "category/accuracy",
        "category/top5_accuracy",
        "category/seen_items_accuracy",
        "price/rmse",
        "price/mape",
        "price/seen_items_rmse",
        "category/head_accuracy",
        "price/head_rmse",
        "brand/accuracy",
        "baselines/label_frequency/category/accuracy",
        "baselines/item_knn/category/top5_accuracy",
        "baselines/item_knn/brand/accuracy",
        "baselines/label_frequency/price/mape",
        "baselines/category_given/price/rmse",
        "baselines/category_mean/price/rmse",
    ):
        assert key in metrics, key
    # The served catalogue and the model read the held-out items' brands as unknown.
    brands = result.catalogue["brand"]
    assert (brands == HIDDEN_VALUE).sum() == held
    assert result.model.config.task("category").sample_weight_key == ATTRIBUTE_WEIGHT_KEY
