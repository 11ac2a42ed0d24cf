"""Trains one `MultiTaskModel` configuration and scores it with the library's evaluation.

Retrieval: exact full ranking of all movies for every test user (query tower of the user's
features against the candidate tower of every movie, training items masked) through
`tfrs_mtl.evaluation.retrieval_metrics`; and, with `use_index`, the same users served through
the ScaNN index of a `tfrs_mtl.serving.Recommender` (`evaluate_retrieved`, plus
`recall@10_vs_exact`). Rating and genres: the library's per-row task metrics on the test
rows (`rmse`, `mae`; `auc`, `micro_f1`, `macro_f1`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Any

import tfrs_mtl  # noqa: F401  (selects Keras 2 before TensorFlow loads)

# isort: split
import numpy as np
import pandas as pd
import tensorflow as tf

from quality.movielens_data import QualityData
from tfrs_mtl.evaluation import (
    evaluate_retrieved,
    index_recall,
    retrieval_depth,
    retrieval_metrics,
)
from tfrs_mtl.experiments.model_evaluation import task_metrics
from tfrs_mtl.models import (
    MultiTaskConfig,
    MultiTaskModel,
    build_dataset,
    build_optimizer,
)
from tfrs_mtl.serving import IndexConfig, Recommender

K = 10


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How a variant is trained (not part of the model: the model is its `MultiTaskConfig`).

    Attributes:
        epochs: training epochs.
        batch_size: examples per step.
        weight_decay: decoupled weight decay (AdamW) when > 0, else Adam.
        ema_momentum: the weights' moving average that the trained model holds
            (`tfrs_mtl.models.build_optimizer`); None: the last step's weights.
    """

    epochs: int = 10
    batch_size: int = 1024
    weight_decay: float = 0.0
    ema_momentum: float | None = None


def _optimizer(config: MultiTaskConfig, training: TrainingConfig, num_rows: int) -> Any:
    decay = {"weight_decay": training.weight_decay} if training.weight_decay > 0 else {}
    return build_optimizer(
        "adamw" if decay else "adam",
        config.learning_rate,
        ema_momentum=training.ema_momentum,
        num_steps=training.epochs * math.ceil(num_rows / training.batch_size),
        **decay,
    )


def train(
    config: MultiTaskConfig, training: TrainingConfig, data: QualityData, seed: int
) -> tuple[MultiTaskModel, float]:
    """`(model, wall seconds of build + fit)` for `config` with `config.seed = seed`."""
    tf.keras.utils.set_random_seed(seed)
    config = config.replace(seed=seed, eval_top_k=())
    start = time.perf_counter()
    model = MultiTaskModel.from_data(config, data.train)
    model.compile(optimizer=_optimizer(config, training, len(data.train["user_id"])))
    dataset = build_dataset(data.train, training.batch_size, shuffle=True, seed=seed)
    model.fit(dataset, epochs=training.epochs, verbose=0)
    return model, time.perf_counter() - start


def _tower_embeddings(model: MultiTaskModel, data: QualityData) -> tuple[np.ndarray, np.ndarray]:
    def encode(encoder: Any, names: tuple[str, ...], arrays: Mapping[str, np.ndarray]) -> Any:
        inputs = {
            name: tf.constant(arrays[name].astype(str))
            if arrays[name].dtype == object
            else tf.constant(arrays[name])
            for name in names
        }
        return np.asarray(encoder(inputs, training=False), np.float32)

    query = encode(model.query_encoder, model.query_feature_names, data.users)
    items = encode(model.candidate_encoder, model.candidate_feature_names, data.catalogue)
    return query, items


def _index_metrics(
    model: MultiTaskModel, data: QualityData, query: np.ndarray, items: np.ndarray
) -> dict[str, float]:
    recommender = Recommender(model, data.catalogue, IndexConfig(), progress=False)
    test_users = np.unique(data.test_pairs[0])
    queries = {name: values[test_users] for name, values in data.users.items()}
    depth = retrieval_depth(data.train_pairs, K, num_users=data.num_users, num_items=data.num_items)
    retrieved = recommender.retrieve(queries, k=depth).item_ids
    positions = pd.Index(data.item_ids.astype(str))
    served = positions.get_indexer(np.asarray(retrieved).reshape(-1).astype(str)).reshape(
        retrieved.shape
    )
    ranked = evaluate_retrieved(
        served,
        data.train_pairs,
        data.test_pairs,
        num_items=data.num_items,
        user_indices=test_users,
        ks=(K,),
    )
    exact = np.argsort(-(query[test_users] @ items.T), axis=1, kind="stable")[:, :K]
    return {
        f"recall@{K}": ranked.metrics[f"recall@{K}"],
        f"ndcg@{K}": ranked.metrics[f"ndcg@{K}"],
        f"recall@{K}_vs_exact": index_recall(served[:, :K], exact),
    }


def evaluate(model: MultiTaskModel, data: QualityData, use_index: bool) -> dict[str, float]:
    """Flat metrics: `retrieval/*`, `rating/rmse`, `genres/auc`, `index/...`."""
    metrics: dict[str, float] = {}
    tasks = {task.kind: task.name for task in model.config.tasks}
    if "retrieval" in tasks:
        query, items = _tower_embeddings(model, data)
        found = retrieval_metrics(
            (query, items),
            data.train_pairs,
            data.test_pairs,
            num_users=data.num_users,
            num_items=data.num_items,
            ks=(K,),
        ).metrics
        metrics.update({f"retrieval/{name}": found[name] for name in (f"recall@{K}", f"ndcg@{K}")})
        metrics["retrieval/top100_hit"] = found["top100_hit"]
        if use_index:
            found = _index_metrics(model, data, query, items)
            metrics.update({f"index/{name}": value for name, value in found.items()})
    scored = task_metrics(model, data.test)  # rating, genres: per test row, as the library
    for task, found in scored.items():
        metrics.update({f"{task}/{name}": value for name, value in found.items()})
    return metrics
