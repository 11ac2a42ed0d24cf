"""`build_task_layer`: the `tfrs_mtl.tasks` layer that computes a configured task's loss."""

from __future__ import annotations

import tensorflow as tf

from tfrs_mtl.models.task_statistics import TaskStatistics
from tfrs_mtl.tasks import (
    AttributeTask,
    BinaryTask,
    EngagementTask,
    RatingTask,
    RetrievalTask,
    TaskConfig,
    UserInterestTask,
)


def head_width(task: TaskConfig, statistics: TaskStatistics) -> int:
    """Output width of an attribute or interest head (1 for a regression attribute)."""
    if task.kind == "attribute" and task.target == "regression":
        return 1
    return statistics.num_classes(task)


def build_task_layer(task: TaskConfig, statistics: TaskStatistics) -> tf.keras.layers.Layer:
    """The loss layer of `task`, named after it (so its metrics read `<task>/<metric>`)."""
    if task.kind == "retrieval":
        return RetrievalTask(
            temperature=task.temperature,
            remove_accidental_hits=task.remove_accidental_hits,
            num_hard_negatives=task.num_hard_negatives,
            name=task.name,
        )
    if task.kind == "rating":
        return RatingTask(task.regression_loss, task.huber_delta, name=task.name)
    if task.kind == "binary":
        return BinaryTask(name=task.name)
    if task.kind == "engagement":
        return EngagementTask(name=task.name)
    if task.kind == "interest":
        return UserInterestTask(task.interest_loss, name=task.name)
    return AttributeTask(
        target=task.target,
        num_classes=head_width(task, statistics),
        regression_loss=task.regression_loss,
        label_mean=statistics.label_means.get(task.name, 0.0),
        label_std=statistics.label_stds.get(task.name, 1.0),
        name=task.name,
    )
