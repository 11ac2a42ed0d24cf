"""`predict_task_outputs`: every task's outputs over in-memory arrays, batch by batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from tfrs_mtl.models.input_pipeline import build_dataset

if TYPE_CHECKING:
    from tfrs_mtl.models.multitask_model import MultiTaskModel


def predict_task_outputs(
    model: MultiTaskModel, arrays: Mapping[str, np.ndarray], batch_size: int = 8192
) -> dict[str, np.ndarray]:
    """Runs `model.task_outputs` (inference mode) over `arrays` in batches.

    Args:
        model: a built `MultiTaskModel`.
        arrays: feature name -> array `[num_examples, ...]`; keys the model does not read
            (labels, other columns) are ignored.
        batch_size: examples per call.

    Returns:
        Output name -> array `[num_examples, ...]`, e.g. `rating` `[num_examples]`,
        `query_embedding` `[num_examples, embedding_dim]`.

    Example:
        >>> predict_task_outputs(model, test_arrays)["rating"]  # doctest: +SKIP
    """
    names = {*model.query_feature_names, *model.candidate_feature_names}
    inputs = {name: values for name, values in arrays.items() if name in names}
    collected: dict[str, list[np.ndarray]] = {}
    for batch in build_dataset(inputs, batch_size, shuffle=False, cache=False):
        for name, value in model.task_outputs(batch, training=False).items():
            collected.setdefault(name, []).append(np.asarray(value))
    return {name: np.concatenate(parts) for name, parts in collected.items()}
