"""Baselines run in the same process, on the same split and users/items, as the model.

Popularity, EASE, item-kNN and biased matrix factorization come from
`tfrs_mtl.evaluation.baselines.evaluate_baselines`; the TFRS multitask tutorial model from
`tfrs_mtl.evaluation.baselines.tfrs_tutorial` (MovieLens only). All are scored by the same
full-ranking code as the model, training items masked, with the same graded, liked and
per-behaviour metrics as its lists (`served_evaluation.list_metrics`). With an interest
task, popularity also predicts every user the global class distribution
(`popularity/interest/*`) and the `training_profile` baseline every user their own shrunk
training profile (`training_profile/interest/*`; `interest_evaluation`). With an
attribute holdout, whatever `baselines` says, `label_frequency` and `item_knn` predict the
held-out items' attributes (`tfrs_mtl.experiments.attribute_evaluation`:
`label_frequency/genres/micro_f1`, `item_knn/genres/auc`, ...; the item-kNN baseline's
retrieval metrics, when it runs, sit beside them under `item_knn/retrieval/*`), and where
the holdout hides a category, `category_mean` predicts each numeric attribute (price) as
the mean of the category item-kNN gives the held-out item, and `category_given` as the mean
of its own category (a reference: the model never reads it). With cold
items, `category_popularity` ranks them (`category_popularity/cold_items/*`;
`tfrs_mtl.experiments.cold_items`). EASE's λ, chosen on a validation split of the training
rows, is reported as `ease/selection/l2`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from tfrs_mtl.evaluation.baselines import evaluate_baselines
from tfrs_mtl.experiments.attribute_evaluation import attribute_baseline_metrics
from tfrs_mtl.experiments.cold_items import (
    CATEGORY_POPULARITY,
    COLD_GROUP,
    category_popularity_metrics,
)
from tfrs_mtl.experiments.experiment_config import (
    MAX_DENSE_BASELINE_ITEMS,
    OPTIONAL_BASELINES,
    ExperimentConfig,
)
from tfrs_mtl.experiments.experiment_data import ExperimentData
from tfrs_mtl.experiments.interest_evaluation import (
    popularity_interest_metrics,
    training_profile_interest_metrics,
)
from tfrs_mtl.experiments.served_evaluation import list_metrics

Log = Callable[[str], None]

#: The baseline fitted to ratings (biased MF): run only where the data have them.
RATING_ONLY_BASELINE = "matrix_factorization"
#: EASE's group of what it was fitted with: `baselines/ease/selection/l2`, the λ chosen on a
#: validation split of the training rows.
EASE_SELECTION_GROUP = "selection"


@dataclasses.dataclass(frozen=True)
class BaselineEvaluation:
    """Attributes:
    metrics: `{baseline: {task: {metric: value}}}`.
    recall_curves: `{baseline: Recall@1..100}`.
    seconds: `{baseline_group: wall time}`.
    names: the baselines run (`ExperimentConfig.baselines_for` the catalogue, less
        `RATING_ONLY_BASELINE` on data without ratings).
    """

    metrics: dict[str, dict[str, dict[str, float]]]
    recall_curves: dict[str, np.ndarray]
    seconds: dict[str, float]
    names: tuple[str, ...] = ()


def run_baselines(
    config: ExperimentConfig,
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
    log: Log | None = None,
) -> BaselineEvaluation:
    """Fits and scores `config.baselines_for(data.num_items)` (empty: nothing), and with an
    attribute holdout the attribute completion baselines (`attribute_baseline_metrics`)."""
    import time

    log = log or (lambda message: None)
    names = config.baselines_for(data.num_items)
    left_out = [name for name in config.baseline_names if name not in names]
    if left_out:
        log(
            f"baselines: {', '.join(left_out)} left out of the defaults: dense items x items "
            f"on {data.num_items:,} items (above {MAX_DENSE_BASELINE_ITEMS:,}); name "
            f"{'it' if len(left_out) == 1 else 'them'} in --baselines to run anyway"
        )
    if data.rating_key is None and RATING_ONLY_BASELINE in names:
        # Biased MF is fitted to ratings: without them there is nothing to fit.
        names = tuple(name for name in names if name != RATING_ONLY_BASELINE)
        if config.baselines is not None:
            log(f"baselines: {RATING_ONLY_BASELINE} skipped: it fits ratings, the data have none")
    metrics: dict[str, dict[str, dict[str, float]]] = {}
    curves: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    if data.attribute_holdout is not None:
        start = time.perf_counter()
        attribute_metrics = attribute_baseline_metrics(data, train_positions)
        seconds["attribute"] = time.perf_counter() - start
        log(f"attribute baselines: {', '.join(attribute_metrics)} (on the held-out items)")
        metrics.update(attribute_metrics)
    if data.cold_items is not None and data.item_class_key is not None:
        log(f"cold-item baseline: {CATEGORY_POPULARITY}")
        found = category_popularity_metrics(
            data, train_positions, test_positions, data.cold_items, data.item_class_key
        )
        if found:
            metrics[CATEGORY_POPULARITY] = {COLD_GROUP: found}
    train_pairs, test_pairs = data.pairs(train_positions), data.pairs(test_positions)
    if not len(test_pairs[0]):
        return BaselineEvaluation(metrics, curves, seconds, names)
    # The tutorial and the attribute model train models of their own (the latter in
    # `tfrs_mtl.experiments.experiment_run`, beside the model).
    classic = [name for name in names if name not in ("tfrs_tutorial", *OPTIONAL_BASELINES)]
    if classic:
        log(f"baselines: {', '.join(classic)}")
        start = time.perf_counter()
        ratings = _ratings(data, train_positions, test_positions)
        results = evaluate_baselines(
            train_pairs,
            test_pairs,
            num_users=data.num_users,
            num_items=data.num_items,
            train_ratings=ratings[0],
            test_ratings=ratings[1],
            ks=config.ks,
            names=classic,
            seed=config.seed,
            list_metrics=lambda lists, users: list_metrics(
                lists, users, data, train_positions, test_positions
            ),
            log=log,
        )
        for name, scored in results.metrics.items():
            # `item_knn` may already hold its attribute predictions.
            metrics[name] = {**metrics.get(name, {}), **scored}
        if results.ease_l2 is not None:
            # What the EASE row was fitted with: λ chosen on a validation split of training.
            log(f"baselines: EASE's λ {results.ease_l2:g}, chosen on a validation split")
            metrics["ease"][EASE_SELECTION_GROUP] = {"l2": results.ease_l2}
        curves.update(results.recall_curves)
        if "popularity" in classic and data.interest_profiles is not None:
            found = popularity_interest_metrics(data, train_positions, test_positions)
            if found:
                metrics["popularity"] = {**metrics["popularity"], "interest": found}
                metrics["training_profile"] = {
                    "interest": training_profile_interest_metrics(
                        data, train_positions, test_positions, seed=config.seed
                    )
                }
        seconds["classic"] = time.perf_counter() - start
    if "tfrs_tutorial" in names:
        log("baseline: tfrs_tutorial (3 epochs, as published)")
        start = time.perf_counter()
        metrics["tfrs_tutorial"], curves["tfrs_tutorial"] = _tfrs_tutorial(
            config, data, train_positions, test_positions
        )
        seconds["tfrs_tutorial"] = time.perf_counter() - start
    return BaselineEvaluation(metrics, curves, seconds, names)


def _ratings(
    data: ExperimentData, train_positions: np.ndarray, test_positions: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if data.rating_key is None:
        return None, None
    values = data.frame[data.rating_key].to_numpy(dtype=np.float32)
    return values[train_positions], values[test_positions]


def _tfrs_tutorial(
    config: ExperimentConfig,
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
) -> tuple[dict[str, dict[str, float]], np.ndarray]:
    from tfrs_mtl.evaluation.baselines.tfrs_tutorial import (
        evaluate_tfrs_tutorial,
        train_tfrs_tutorial,
    )

    frame = data.frame
    titles = frame["movie_title"].to_numpy(dtype=object).astype(str)
    users = frame["user_id"].to_numpy(dtype=object).astype(str)
    ratings = frame["user_rating"].to_numpy(dtype=np.float32)
    _, first = np.unique(data.item_index, return_index=True)
    train = {
        "movie_title": titles[train_positions],
        "user_id": users[train_positions],
        "user_rating": ratings[train_positions],
    }
    run = train_tfrs_tutorial(
        train, unique_user_ids=users, candidate_titles=titles[first], seed=config.seed
    )
    return evaluate_tfrs_tutorial(
        run,
        user_ids=data.user_ids.astype(str),
        movie_titles=titles[first],
        train_pairs=data.pairs(train_positions),
        test_pairs=data.pairs(test_positions),
        test_ratings=ratings[test_positions],
        ks=config.ks,
    )
