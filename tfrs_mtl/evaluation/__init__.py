"""tfrs_mtl.evaluation: metrics, full-ranking evaluation, baselines, cross-validation, reports.

Example:
    >>> from tfrs_mtl.evaluation import evaluate_full_ranking, top100_hit
    >>> result = evaluate_full_ranking((query, items), train_pairs, test_pairs)  # doctest: +SKIP
    >>> result.metrics["recall@10"], top100_hit((query, items), test_pairs)  # doctest: +SKIP
"""

from tfrs_mtl.evaluation.classification_metrics import (
    macro_f1,
    mean_kl_divergence,
    multiclass_accuracy,
    multilabel_auc,
    multilabel_f1,
)
from tfrs_mtl.evaluation.cross_validation import cross_validate
from tfrs_mtl.evaluation.full_ranking import (
    RankingResult,
    evaluate_full_ranking,
    evaluate_retrieved,
    retrieval_depth,
    top_k_lists,
)
from tfrs_mtl.evaluation.graded_metrics import GradedRelevance, discounts_at, graded_ndcg
from tfrs_mtl.evaluation.index_recall import index_recall
from tfrs_mtl.evaluation.interaction_sets import UserItemSets, encode_pairs
from tfrs_mtl.evaluation.metrics_schema import flatten_metrics
from tfrs_mtl.evaluation.pointwise_metrics import (
    binary_accuracy,
    binary_auc,
    log_loss,
    mae,
    rmse,
)
from tfrs_mtl.evaluation.ranking_metrics import DEFAULT_KS, RankingMetricAccumulator
from tfrs_mtl.evaluation.report import write_report
from tfrs_mtl.evaluation.retrieval_metrics import RetrievalMetrics, retrieval_metrics
from tfrs_mtl.evaluation.score_source import ScoreFn, ScoreSource
from tfrs_mtl.evaluation.top_k_hit import top100_hit, top_k_hit

__all__ = [
    "DEFAULT_KS",
    "GradedRelevance",
    "RankingMetricAccumulator",
    "RankingResult",
    "RetrievalMetrics",
    "ScoreFn",
    "ScoreSource",
    "UserItemSets",
    "binary_accuracy",
    "binary_auc",
    "cross_validate",
    "discounts_at",
    "encode_pairs",
    "evaluate_full_ranking",
    "evaluate_retrieved",
    "flatten_metrics",
    "graded_ndcg",
    "index_recall",
    "log_loss",
    "macro_f1",
    "mae",
    "mean_kl_divergence",
    "multiclass_accuracy",
    "multilabel_auc",
    "multilabel_f1",
    "retrieval_depth",
    "retrieval_metrics",
    "rmse",
    "top100_hit",
    "top_k_hit",
    "top_k_lists",
    "write_report",
]
