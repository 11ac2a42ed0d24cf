"""Scores a trained `MultiTaskModel`, its served lists and its index on a test split.

* `served/*`: what `recommend` returns to every test user (the built index, stage 2's
  re-ranking of `num_candidates` candidates with the recommender's default blend, the
  user's training items excluded): `recall@10/20`, `ndcg@10/20`, and the graded, liked and
  per-behaviour metrics of `tfrs_mtl.experiments.served_evaluation`.
* `retrieval/*`: stage 1 alone, the exact full ranking of the whole catalogue for every test
  user (query tower against candidate tower, the user's training items masked):
  Recall/NDCG/... at `ks`,
  `top100_hit` (the TFRS tutorials' metric, nothing masked), the Recall@1..100 curve, and
  the same graded, liked and per-behaviour metrics as `served/*`.
* `index/*`: the same users served through the built index (ScaNN by default):
  `recall@K` / `ndcg@K` of what the index returns (training items removed), and
  `recall@10_vs_exact`, the share of the exact top 10 the index returns.
* Every other task on the test rows: `rating/rmse`, `rating/mae`; binary tasks `auc`,
  `log_loss`. An item attribute head scored on the test rows scores items whose labels it
  trained on (a lookup a table of the training labels matches), so its metrics are named
  `seen_items_<metric>`: multi-label `seen_items_auc`, `seen_items_micro_f1`; multi-class
  `seen_items_accuracy`; regression `seen_items_rmse` (in label units). The attributes'
  predictions are scored only with an attribute holdout (below).
* An interest task per test user: `kl` against the user's held-out class distribution and
  `training_profile_kl` (`tfrs_mtl.experiments.interest_evaluation`).
* With an attribute holdout (`data.attribute_holdout`), every held-out attribute is scored
  on the held-out items instead, one prediction per item, completed from the closest known
  items in the model's item space (`tfrs_mtl.experiments.attribute_evaluation`:
  `genres/micro_f1`, `macro_f1`, `auc`; `category/accuracy`, `top5_accuracy`; `brand/*`;
  `price/rmse`, `mape`); each attribute head's own predictions of those items become
  `head_<metric>`, and its `seen_items_<metric>` are scored on the test rows of the other
  items; `attribute_holdout/num_items` counts the held-out items.
* With cold items (`data.cold_items`), `cold_items/*` (`tfrs_mtl.experiments.cold_items`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tfrs_mtl._metric_names import SEEN_ITEMS_PREFIX
from tfrs_mtl.evaluation import (
    binary_auc,
    evaluate_retrieved,
    index_recall,
    log_loss,
    mae,
    multiclass_accuracy,
    multilabel_auc,
    multilabel_f1,
    retrieval_depth,
    retrieval_metrics,
    rmse,
    top_k_lists,
)
from tfrs_mtl.evaluation.score_source import top_k_ids
from tfrs_mtl.experiments.attribute_evaluation import (
    HOLDOUT_GROUP,
    heldout_model_metrics,
    holdout_summary,
    item_attribute_tasks,
)
from tfrs_mtl.experiments.cold_items import (
    COLD_GROUP,
    COLD_K,
    SHARE_K,
    cold_rows,
    cold_summary,
    ranking_metrics_over_cold_items,
    served_share,
)
from tfrs_mtl.experiments.experiment_data import ExperimentData, feature_arrays
from tfrs_mtl.experiments.interest_evaluation import interest_metrics
from tfrs_mtl.experiments.served_evaluation import (
    SERVED_KS,
    list_metrics,
    seen_items,
    served_lists,
    subset_metrics,
)
from tfrs_mtl.models import MultiTaskModel, predict_task_outputs
from tfrs_mtl.models.catalogue import key_strings
from tfrs_mtl.serving.catalogue_encoding import (
    QUERY_BATCH_SIZE,
    encode_catalogue,
    encode_in_batches,
)

INDEX_K = 10
_BATCH_SIZE = 8192
#: Users per block of the index metrics.
_INDEX_BLOCK = 2048


@dataclasses.dataclass(frozen=True)
class ModelEvaluation:
    """Attributes:
    metrics: `{task: {metric: value}}` (tasks `retrieval`, `index`, `rating`, ...).
    recall_curve: exact full-ranking Recall@K, K = 1..100.
    """

    metrics: dict[str, dict[str, float]]
    recall_curve: np.ndarray


def item_catalogue(data: ExperimentData, model: MultiTaskModel) -> dict[str, np.ndarray]:
    """Candidate features of every item, in item-index order (each item's first row)."""
    _, first = np.unique(data.item_index, return_index=True)
    arrays = feature_arrays(data, first)
    names = [model.candidate_id_feature, *model.candidate_feature_names]
    if data.display_key:
        names.append(data.display_key)
    return {name: arrays[name] for name in dict.fromkeys(names) if name in arrays}


def user_table(
    data: ExperimentData, model: MultiTaskModel, train_positions: np.ndarray
) -> dict[str, np.ndarray]:
    """Query features of every user, in user-index order.

    A user's features come from their latest training row (by `timestamp` when the data
    has one, so a time feature holds the last time seen in training); users absent from
    training take their latest row. No test label is read.
    """
    order = np.arange(len(data.frame))
    is_train = np.zeros(len(order), dtype=bool)
    is_train[train_positions] = True
    times = (
        data.frame["timestamp"].to_numpy(dtype=np.int64)
        if "timestamp" in data.frame
        else np.zeros(len(order), np.int64)
    )
    # Sort so that, per user, the chosen row comes last: training rows after others, then time.
    ranked = np.lexsort((order, times, is_train, data.user_index))
    last = np.r_[data.user_index[ranked][1:] != data.user_index[ranked][:-1], True]
    chosen = ranked[last]
    arrays = feature_arrays(data, chosen)
    return {name: arrays[name] for name in model.query_feature_names if name in arrays}


def user_embeddings(
    data: ExperimentData,
    model: MultiTaskModel,
    train_positions: np.ndarray,
    users: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The retrieval embedding of every user of `user_table`, `[num_users, dim]` float32,
    encoded `QUERY_BATCH_SIZE` users at a time (`users`: that table, when the caller has it)."""
    if users is None:
        users = user_table(data, model, train_positions)
    return encode_in_batches(model.query_encoder, users, tuple(users), QUERY_BATCH_SIZE)


def item_embeddings(data: ExperimentData, model: MultiTaskModel) -> np.ndarray:
    """The retrieval embedding of every item of `item_catalogue`, `[num_items, dim]` float32."""
    return encode_catalogue(
        model.candidate_encoder,
        item_catalogue(data, model),
        model.candidate_feature_names,
        progress=False,
    )


def task_metrics(
    model: MultiTaskModel,
    test_arrays: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray] | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of every task scored per row on the test rows (see the module docstring):
    not retrieval, nor interest (scored per user: `interest_metrics`); an item attribute
    task's are `seen_items_<metric>`.

    Args:
        model: the trained model.
        test_arrays: the test rows' features and labels.
        outputs: `predict_task_outputs(model, test_arrays)`, when already computed.
    """
    if outputs is None:
        outputs = predict_task_outputs(model, test_arrays, _BATCH_SIZE)
    metrics: dict[str, dict[str, float]] = {}
    statistics = model.task_statistics
    for task in model.config.tasks:
        if task.kind in ("retrieval", "interest") or task.label_key not in test_arrays:
            continue
        labels = np.asarray(test_arrays[task.label_key])
        predicted = outputs[task.name]
        if task.kind == "rating":
            metrics[task.name] = {"rmse": rmse(labels, predicted), "mae": mae(labels, predicted)}
        elif task.kind == "binary":
            found = {"log_loss": log_loss(labels, predicted)}
            if 0 < labels.mean() < 1:
                found["auc"] = binary_auc(labels, predicted)
            metrics[task.name] = found
        elif task.target == "multi_label":
            matrix = np.zeros(predicted.shape, dtype=np.float32)
            rows, columns = np.nonzero((labels >= 0) & (labels < predicted.shape[1]))
            matrix[rows, labels[rows, columns]] = 1.0
            probabilities = 1.0 / (1.0 + np.exp(-predicted))
            metrics[task.name] = {
                "auc": multilabel_auc(matrix, predicted),
                **multilabel_f1(matrix, probabilities),
            }
        elif task.target == "multi_class":
            vocabulary = statistics.label_vocabularies.get(task.name)
            if vocabulary is not None:
                codes = pd.Index(vocabulary).get_indexer(pd.Index(key_strings(labels)))
                labels = np.where(codes >= 0, codes, len(vocabulary))
            metrics[task.name] = {"accuracy": multiclass_accuracy(labels, predicted)}
        else:
            mean = statistics.label_means.get(task.name, 0.0)
            std = statistics.label_stds.get(task.name, 1.0)
            metrics[task.name] = {"rmse": rmse(labels, predicted * std + mean)}
    for task in item_attribute_tasks(model.config):
        if task.name in metrics:
            metrics[task.name] = {
                f"{SEEN_ITEMS_PREFIX}{key}": value for key, value in metrics[task.name].items()
            }
    return metrics


def evaluate_model(
    model: MultiTaskModel,
    recommender: Any,
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
    users: Mapping[str, np.ndarray],
    ks: tuple[int, ...],
    *,
    num_candidates: int = 200,
) -> ModelEvaluation:
    """Every metric of the module docstring.

    Args:
        model: the trained model.
        recommender: a `tfrs_mtl.serving.Recommender` over `item_catalogue(data, model)`.
        data: the experiment data.
        train_positions: training rows of `data.frame` (masked in retrieval).
        test_positions: test rows.
        users: `user_table(data, model, train_positions)`.
        ks: retrieval cut-offs.
        num_candidates: stage 1's candidates per user in the served lists.
    """
    train_pairs = data.pairs(train_positions)
    test_pairs = data.pairs(test_positions)
    query = recommender.encode_queries(users)
    items = np.asarray(recommender.candidate_embeddings, np.float32)
    metrics: dict[str, dict[str, float]] = {}
    curve = np.zeros(0)
    if len(test_pairs[0]):
        retrieval = retrieval_metrics(
            (query, items),
            train_pairs,
            test_pairs,
            num_users=data.num_users,
            num_items=data.num_items,
            ks=ks,
        )
        test_users = np.unique(test_pairs[0])
        served = served_lists(
            recommender,
            data,
            users,
            test_users,
            seen_items(data, train_positions),
            k=max(SERVED_KS),
            num_candidates=num_candidates,
        )
        metrics["served"] = list_metrics(
            served.item_rows, test_users, data, train_positions, test_positions
        )
        exact = top_k_lists(
            (query, items),
            train_pairs,
            test_users,
            num_users=data.num_users,
            num_items=data.num_items,
            k=max(SERVED_KS),
        )
        stage_one = list_metrics(exact, test_users, data, train_positions, test_positions)
        metrics["retrieval"] = {**stage_one, **retrieval.metrics}
        curve = retrieval.recall_curve
        metrics["index"] = _index_metrics(recommender, data, users, train_pairs, test_pairs, query)
        if data.cold_items is not None:
            metrics[COLD_GROUP] = _cold_item_metrics(
                query, items, data, train_pairs, test_positions, served.item_rows, test_users
            )
    test_arrays = feature_arrays(data, test_positions)
    outputs = predict_task_outputs(model, test_arrays, _BATCH_SIZE)
    if data.attribute_holdout is None:
        metrics.update(task_metrics(model, test_arrays, outputs))
    else:
        metrics.update(_holdout_task_metrics(model, data, test_positions, test_arrays, outputs))
    interest = [task.name for task in model.config.tasks if task.kind == "interest"]
    if interest and data.interest_profiles is not None and len(test_positions):
        # The head reads the query tower only: a user's first test row speaks for the user.
        test_users, first = np.unique(data.user_index[test_positions], return_index=True)
        for name in interest:
            logits = outputs[name][first].astype(np.float64)
            log_predictions = logits - _log_sum_exp(logits)
            found = interest_metrics(data, test_positions, test_users, log_predictions)
            if found:
                metrics[name] = found
    return ModelEvaluation(metrics, curve)


def _cold_item_metrics(
    query: np.ndarray,
    items: np.ndarray,
    data: ExperimentData,
    train_pairs: tuple[np.ndarray, np.ndarray],
    test_positions: np.ndarray,
    served: np.ndarray,
    test_users: np.ndarray,
) -> dict[str, float]:
    """`cold_items/*` (`tfrs_mtl.experiments.cold_items`): the cold items ranked alone by the
    retrieval score, found in the served lists, and their share of them; and the served
    lists scored on the warm items' test interactions alone."""
    cold = data.cold_items
    assert cold is not None
    metrics = cold_summary(data, test_positions, cold)
    metrics.update(ranking_metrics_over_cold_items(query, items, data, test_positions, cold))
    is_cold = cold_rows(data, test_positions, cold)
    for name, rows, k in (("served", is_cold, COLD_K), ("warm_served", ~is_cold, SHARE_K)):
        positives = data.positives(test_positions[rows])
        metrics.update(subset_metrics(name, served, test_users, data, train_pairs, positives, k))
    metrics[f"served_share@{SHARE_K}"] = served_share(served, cold)
    return metrics


def _holdout_task_metrics(
    model: MultiTaskModel,
    data: ExperimentData,
    test_positions: np.ndarray,
    test_arrays: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
) -> dict[str, dict[str, float]]:
    """`task_metrics` with every item attribute task scored on the held-out items, its
    per-row `seen_items_<metric>` kept for the test rows of the catalogue items whose labels
    trained."""
    holdout = data.attribute_holdout
    assert holdout is not None
    metrics = task_metrics(model, test_arrays, outputs)
    attribute_names = [task.name for task in item_attribute_tasks(model.config)]
    known = np.zeros(data.num_items, dtype=bool)
    known[holdout.known_items] = True
    seen = known[data.item_index[test_positions]]
    seen_metrics: dict[str, dict[str, float]] = {}
    if seen.any() and attribute_names:
        seen_metrics = task_metrics(
            model,
            {name: np.asarray(values)[seen] for name, values in test_arrays.items()},
            {name: np.asarray(values)[seen] for name, values in outputs.items()},
        )
    heldout = heldout_model_metrics(model, item_catalogue(data, model), holdout)
    for name in attribute_names:
        metrics.pop(name, None)
        found = dict(heldout.get(name, {}))
        seen_rows = seen_metrics.get(name, {})
        found.update(seen_rows)
        if found:
            metrics[name] = found
    # Held-out attributes no task predicts (the shop's brand), completed in the item space.
    metrics.update((name, found) for name, found in heldout.items() if name not in metrics)
    metrics[HOLDOUT_GROUP] = holdout_summary(holdout)
    return metrics


def _log_sum_exp(logits: np.ndarray) -> np.ndarray:
    largest = logits.max(axis=1, keepdims=True)
    return largest + np.log(np.exp(logits - largest).sum(axis=1, keepdims=True))


def _index_metrics(
    recommender: Any,
    data: ExperimentData,
    users: Mapping[str, np.ndarray],
    train_pairs: tuple[np.ndarray, np.ndarray],
    test_pairs: tuple[np.ndarray, np.ndarray],
    query: np.ndarray,
) -> dict[str, float]:
    test_users = np.unique(test_pairs[0])
    positions = pd.Index(data.item_ids)
    k = min(INDEX_K, data.num_items)
    depth = retrieval_depth(train_pairs, k, num_users=data.num_users, num_items=data.num_items)
    items_t = np.asarray(recommender.candidate_embeddings, np.float32).T
    served_blocks, exact_blocks = [], []
    # A block of users at a time: the index's answers and the exact scores of the whole
    # catalogue are `[users, depth]` strings and `[users, items]` floats.
    for start in range(0, test_users.size, _INDEX_BLOCK):
        block = test_users[start : start + _INDEX_BLOCK]
        queries = {name: values[block] for name, values in users.items()}
        retrieved = np.asarray(recommender.retrieve(queries, k=depth).item_ids)
        found = positions.get_indexer(pd.Index(retrieved.reshape(-1).astype(str)))
        served_blocks.append(found.reshape(retrieved.shape))
        exact_blocks.append(top_k_ids(query[block] @ items_t, k)[1])
    served = np.concatenate(served_blocks)
    exact = np.concatenate(exact_blocks)
    ranked = evaluate_retrieved(
        served, train_pairs, test_pairs, num_items=data.num_items, user_indices=test_users, ks=(k,)
    )
    return {
        f"recall@{k}": ranked.metrics[f"recall@{k}"],
        f"ndcg@{k}": ranked.metrics[f"ndcg@{k}"],
        f"recall@{k}_vs_exact": index_recall(served[:, :k], exact),
    }
