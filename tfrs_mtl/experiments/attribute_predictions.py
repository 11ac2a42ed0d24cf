"""`predicted_attributes`: what the model's attribute heads say about items (e.g. genres)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

from tfrs_mtl.models import MultiTaskModel

_GENRE_NAMES: tuple[str, ...] | None = None


def _class_names(model: MultiTaskModel, task_name: str, num_classes: int) -> list[str]:
    vocabulary = model.task_statistics.label_vocabularies.get(task_name)
    if vocabulary is not None:
        return [*vocabulary, "(unseen)"][:num_classes]
    if task_name == "genres":
        from tfrs_mtl.data import GENRE_NAMES

        return list(GENRE_NAMES)[:num_classes]
    return [str(index) for index in range(num_classes)]


def predicted_attributes(
    model: MultiTaskModel,
    catalogue: Mapping[str, np.ndarray],
    item_ids: Sequence[str],
    *,
    top: int = 2,
) -> dict[str, list[str]]:
    """Per candidate-side attribute task, each item's `top` predicted classes with their
    probabilities (e.g. `{"genres": ["Drama 0.81, Romance 0.40", ...]}`).

    Args:
        model: the trained model.
        catalogue: candidate features of every item (with the id feature).
        item_ids: the items to describe (unknown ids give "").
        top: classes shown per item.
    """
    tasks = [
        task
        for task in model.config.tasks
        if task.kind == "attribute"
        and task.source_side == "candidate"
        and task.target != "regression"
    ]
    if not tasks or not len(item_ids):
        return {}
    keys = np.asarray(catalogue[model.candidate_id_feature]).astype(str)
    rows = {key: row for row, key in enumerate(keys)}
    positions = np.array([rows.get(str(item), -1) for item in item_ids])
    found = np.maximum(positions, 0)
    # The id too: a head with a private embedding reads it (TaskConfig.private_embedding_dim).
    names = {model.candidate_id_feature, *model.candidate_feature_names}
    features = {
        name: tf.constant(np.asarray(values)[found].astype(str))
        if np.asarray(values).dtype.kind in "OU"
        else tf.constant(np.asarray(values)[found])
        for name, values in catalogue.items()
        if name in names
    }
    candidate = model.candidate_tower(features, training=False)
    described: dict[str, list[str]] = {}
    for task in tasks:
        logits = np.asarray(model.side_head_logits(task, features, candidate))
        if task.target == "multi_label":
            probabilities = 1.0 / (1.0 + np.exp(-logits))
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        classes = _class_names(model, task.name, probabilities.shape[1])
        best = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
        described[task.name] = [
            ", ".join(f"{classes[c]} {probabilities[row, c]:.2f}" for c in best[row])
            if positions[row] >= 0
            else ""
            for row in range(len(item_ids))
        ]
    return described
