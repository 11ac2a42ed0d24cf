"""tfrs_mtl.tasks: task definitions wrapping `tfrs.tasks`, and loss-weighting strategies.

Tasks: `RetrievalTask` (in-batch or full-catalogue softmax, logQ correction), `RatingTask`
(+ `RatingBias`), `BinaryTask` (behaviours, ESMM), `EngagementTask` (interactions against
sampled and retrieved negatives), `AttributeTask` (multi-label, multi-class,
regression; `check_attribute_leakage`), `UserInterestTask` (+ profiles). Weighting:
`FixedWeighting`, `UncertaintyWeighting`, `DynamicWeightAverage`, `GradNormWeighting`,
`project_conflicting_gradients` (PCGrad), built from a `WeightingConfig`.
"""

from tfrs_mtl.tasks.attribute import AttributeTask, check_attribute_leakage, multi_hot
from tfrs_mtl.tasks.behaviour import BinaryTask
from tfrs_mtl.tasks.dynamic_weight_average import DynamicWeightAverage
from tfrs_mtl.tasks.engagement import EngagementTask
from tfrs_mtl.tasks.gradnorm import GradNormWeighting
from tfrs_mtl.tasks.interest import (
    UserInterestTask,
    attach_interest_profiles,
    compute_interest_profiles,
)
from tfrs_mtl.tasks.loss_weighting import (
    FixedWeighting,
    LossWeighting,
    LossWeightingCallback,
    combine_losses,
)
from tfrs_mtl.tasks.pcgrad import project_conflicting_gradients
from tfrs_mtl.tasks.rating import RatingBias, RatingTask
from tfrs_mtl.tasks.retrieval import RetrievalTask
from tfrs_mtl.tasks.task_config import (
    PROBABILITY_KINDS,
    RANKING_KINDS,
    TaskConfig,
    WeightingConfig,
)
from tfrs_mtl.tasks.uncertainty_weighting import UncertaintyWeighting
from tfrs_mtl.tasks.weighting_builder import build_loss_weighting

__all__ = [
    "PROBABILITY_KINDS",
    "RANKING_KINDS",
    "AttributeTask",
    "BinaryTask",
    "DynamicWeightAverage",
    "EngagementTask",
    "FixedWeighting",
    "GradNormWeighting",
    "LossWeighting",
    "LossWeightingCallback",
    "RatingBias",
    "RatingTask",
    "RetrievalTask",
    "TaskConfig",
    "UncertaintyWeighting",
    "UserInterestTask",
    "WeightingConfig",
    "attach_interest_profiles",
    "build_loss_weighting",
    "check_attribute_leakage",
    "combine_losses",
    "compute_interest_profiles",
    "multi_hot",
    "project_conflicting_gradients",
]
