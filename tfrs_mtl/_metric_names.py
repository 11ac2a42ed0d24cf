"""The names of the list metrics every run reports for its served lists (`served/<name>`),
stage 1 (`retrieval/<name>`) and each baseline, in the order tables show them.

Plain data with no heavy import, so that the command line's tables read it at once.
"""

from __future__ import annotations

#: Ratings at or above this are "liked" (`liked_recall@10`).
LIKED_RATING = 4.0
#: Behaviour labels scored per behaviour on e-commerce data, most valuable first.
BEHAVIOURS: tuple[str, ...] = ("purchase", "cart", "click")
#: The cut-off of the per-behaviour metrics.
BEHAVIOUR_K = 20
#: The cut-offs of the served metrics.
SERVED_KS: tuple[int, ...] = (10, 20)
#: Every metric `tfrs_mtl.experiments.served_evaluation.list_metrics` may report.
LIST_METRIC_NAMES: tuple[str, ...] = (
    *(f"{name}@{k}" for k in SERVED_KS for name in ("recall", "ndcg")),
    "graded_ndcg@10",
    "liked_recall@10",
    *(
        f"{behaviour}_{name}@{BEHAVIOUR_K}"
        for behaviour in BEHAVIOURS
        for name in ("recall", "ndcg")
    ),
)
#: The prefix of an item attribute head's metrics on test rows of items whose labels it
#: trained on (`genres/seen_items_auc`): a lookup's score, named so that it is not read as a
#: prediction's (`genres/auc` is one only with an attribute holdout).
SEEN_ITEMS_PREFIX = "seen_items_"
