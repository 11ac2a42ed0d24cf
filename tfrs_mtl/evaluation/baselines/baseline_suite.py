"""`evaluate_baselines`: popularity, EASE, item-kNN and biased MF scored by the library's
evaluation.

Returns the nested `{baseline: {task: {metric: value}}}` that `write_report` and
`flatten_metrics` take, and each baseline's Recall@1..100 curve.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tfrs_mtl.evaluation.baselines.ease import EaseBaseline, select_ease
from tfrs_mtl.evaluation.baselines.item_knn import select_item_knn
from tfrs_mtl.evaluation.baselines.matrix_factorization import MatrixFactorizationBaseline
from tfrs_mtl.evaluation.baselines.popularity import PopularityBaseline
from tfrs_mtl.evaluation.full_ranking import top_k_lists
from tfrs_mtl.evaluation.pointwise_metrics import mae, rmse
from tfrs_mtl.evaluation.ranking_metrics import DEFAULT_KS
from tfrs_mtl.evaluation.retrieval_metrics import retrieval_metrics
from tfrs_mtl.evaluation.score_source import ScoreFn

RatingFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
ListMetrics = Callable[[np.ndarray, np.ndarray], dict[str, float]]
#: How many items of each user's list `list_metrics` receives.
LIST_DEPTH = 20

BASELINE_NAMES: tuple[str, ...] = ("popularity", "ease", "item_knn", "matrix_factorization")


@dataclass(frozen=True)
class BaselineResults:
    """Attributes:
    metrics: `{baseline: {"retrieval": {...}, "rating": {"rmse", "mae"}}}`.
    recall_curves: `{baseline: Recall@K for K = 1..100}`.
    ease_l2: the λ EASE used (chosen on validation unless given).
    """

    metrics: dict[str, dict[str, dict[str, float]]]
    recall_curves: dict[str, np.ndarray]
    ease_l2: float | None


def evaluate_baselines(
    train_pairs: tuple[np.ndarray, np.ndarray],
    test_pairs: tuple[np.ndarray, np.ndarray],
    *,
    num_users: int,
    num_items: int,
    train_ratings: np.ndarray | None = None,
    test_ratings: np.ndarray | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    names: Sequence[str] = BASELINE_NAMES,
    ease_l2: float | None = None,
    seed: int = 0,
    list_metrics: ListMetrics | None = None,
    log: Callable[[str], None] | None = None,
) -> BaselineResults:
    """Fits the named baselines on the training pairs and evaluates them on the test pairs.

    Args:
        train_pairs: `(user_indices, item_indices)` of training interactions.
        test_pairs: `(user_indices, item_indices)` of test interactions.
        num_users: number of users.
        num_items: catalogue size (all candidates).
        train_ratings: `[num_train]` ratings; enables `rating/*` metrics and MF.
        test_ratings: `[num_test]` ratings of the test pairs.
        ks: retrieval cut-offs.
        names: baselines to run, from `BASELINE_NAMES` (MF is skipped without ratings).
        ease_l2: EASE's λ; None chooses it on a validation split of training (`select_ease`).
        seed: seed of EASE's validation split and MF's initialisation.
        list_metrics: more metrics of each baseline's ranked lists, added to its
            `retrieval` metrics: called with the top `LIST_DEPTH` items `[n, LIST_DEPTH]` of
            every test user (training items masked) and those users `[n]`.
        log: receives a line per λ EASE fits while it chooses one (each an items x items
            inverse: the suite's longest wait on a large catalogue).
    """
    unknown = sorted(set(names) - set(BASELINE_NAMES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; expected some of {BASELINE_NAMES}")
    has_ratings = train_ratings is not None and test_ratings is not None
    metrics: dict[str, dict[str, dict[str, float]]] = {}
    curves: dict[str, np.ndarray] = {}
    chosen_l2: float | None = None

    def add(name: str, score_fn: ScoreFn, predict_rating: RatingFn | None = None) -> None:
        retrieval = retrieval_metrics(
            score_fn, train_pairs, test_pairs, num_users=num_users, num_items=num_items, ks=ks
        )
        metrics[name] = {"retrieval": retrieval.metrics}
        if list_metrics is not None:
            users = np.unique(test_pairs[0])
            lists = top_k_lists(
                score_fn,
                train_pairs,
                users,
                num_users=num_users,
                num_items=num_items,
                k=LIST_DEPTH,
            )
            metrics[name]["retrieval"] = {**list_metrics(lists, users), **retrieval.metrics}
        curves[name] = retrieval.recall_curve
        if predict_rating is not None and test_ratings is not None:
            predicted = predict_rating(*test_pairs)
            metrics[name]["rating"] = {
                "rmse": rmse(test_ratings, predicted),
                "mae": mae(test_ratings, predicted),
            }

    if "popularity" in names:
        popularity = PopularityBaseline.fit(
            train_pairs[1], num_items=num_items, ratings=train_ratings
        )
        add("popularity", popularity.score, popularity.predict_rating if has_ratings else None)
    if "ease" in names:
        if ease_l2 is None:
            ease = select_ease(
                train_pairs,
                num_users=num_users,
                num_items=num_items,
                seed=seed,
                on_score=None if log is None else _ease_progress(log),
            ).model
        else:
            ease = EaseBaseline.fit(
                train_pairs, num_users=num_users, num_items=num_items, l2=ease_l2
            )
        chosen_l2 = ease.l2
        add("ease", ease.score)
    if "item_knn" in names:
        knn = select_item_knn(train_pairs, num_users=num_users, num_items=num_items, seed=seed)
        add("item_knn", knn.score)
    if "matrix_factorization" in names and has_ratings:
        factorization = MatrixFactorizationBaseline.fit(
            train_pairs[0],
            train_pairs[1],
            train_ratings,
            num_users=num_users,
            num_items=num_items,
            seed=seed,
        )
        add("matrix_factorization", factorization.score, factorization.predict_rating)
    return BaselineResults(metrics, curves, chosen_l2)


def _ease_progress(log: Callable[[str], None]) -> Callable[[float, float, float], None]:
    def report(l2: float, value: float, seconds: float) -> None:
        log(f"baselines: EASE λ {l2:g}: validation NDCG@10 {value:.4f} ({seconds:.1f} s)")

    return report
