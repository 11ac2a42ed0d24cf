"""`build_loss_weighting`: the `LossWeighting` layer a `WeightingConfig` describes."""

from __future__ import annotations

from collections.abc import Sequence

from tfrs_mtl.tasks.dynamic_weight_average import DynamicWeightAverage
from tfrs_mtl.tasks.gradnorm import GradNormWeighting
from tfrs_mtl.tasks.loss_weighting import FixedWeighting, LossWeighting
from tfrs_mtl.tasks.task_config import TaskConfig, WeightingConfig
from tfrs_mtl.tasks.uncertainty_weighting import UncertaintyWeighting


def build_loss_weighting(config: WeightingConfig, tasks: Sequence[TaskConfig]) -> LossWeighting:
    """Builds the weighting strategy for `tasks` (weights start from each `TaskConfig.weight`).

    Example:
        >>> tasks = (TaskConfig(name="rating", kind="rating", label_key="user_rating"),)
        >>> build_loss_weighting(WeightingConfig(method="uncertainty"), tasks)
    """
    names = tuple(task.name for task in tasks)
    weights = tuple(task.weight for task in tasks)
    if config.method == "uncertainty":
        return UncertaintyWeighting(
            names,
            weights,
            initial_log_variance=config.initial_log_variance,
            name="loss_weighting",
        )
    if config.method == "dwa":
        return DynamicWeightAverage(
            names, weights, temperature=config.dwa_temperature, name="loss_weighting"
        )
    if config.method == "gradnorm":
        return GradNormWeighting(
            names,
            weights,
            alpha=config.gradnorm_alpha,
            learning_rate=config.gradnorm_learning_rate,
            name="loss_weighting",
        )
    return FixedWeighting(names, weights, name="loss_weighting")
