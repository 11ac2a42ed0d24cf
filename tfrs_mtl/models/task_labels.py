"""`TaskLabels`: each task's label in a batch, as its task layer reads it.

A task with a label vocabulary (`TaskStatistics.label_vocabularies`: string multi-class
labels) reads each value's row in it, and a value unseen in training the one extra class
after them; every other task reads its label as the batch holds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf

from tfrs_mtl.features import to_key_strings
from tfrs_mtl.models.catalogue import row_lookup
from tfrs_mtl.tasks import TaskConfig


class TaskLabels(tf.Module):
    """A `tf.Module`, so that the model tracks the label vocabularies' lookup tables.

    Args:
        label_vocabularies: Task name -> its label values (`TaskStatistics`).
    """

    def __init__(
        self, label_vocabularies: Mapping[str, Sequence[str]], name: str = "task_labels"
    ) -> None:
        super().__init__(name=name)
        vocabularies = label_vocabularies.items()
        self._lookups = {task: row_lookup(keys, f"{task}_labels") for task, keys in vocabularies}
        self._num_values = {task: len(keys) for task, keys in vocabularies}

    def __call__(self, task: TaskConfig, features: Mapping[str, tf.Tensor]) -> Any:
        """`task`'s label `[batch_size, ...]` in the raw batch `features` (not mutated).

        Raises:
            KeyError: the batch lacks the label (names the task, the key and the keys found).
        """
        if task.label_key not in features:
            raise KeyError(
                f"task {task.name!r}: label {task.label_key!r} is missing from the batch; "
                f"found keys {sorted(features)}"
            )
        label = features[task.label_key]
        if task.name in self._lookups:
            rows = self._lookups[task.name].lookup(to_key_strings(label))
            label = tf.where(rows >= 0, rows, self._num_values[task.name])
        return label
