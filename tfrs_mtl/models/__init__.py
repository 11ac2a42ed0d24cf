"""tfrs_mtl.models: `MultiTaskModel` (a `tfrs.models.Model` whose `compute_loss` combines every
task's loss), its `MultiTaskConfig`, presets and the input pipeline."""

from tfrs_mtl.models.catalogue import Catalogue
from tfrs_mtl.models.distributed_training import (
    DistributedTrainingResult,
    check_distributable,
    train_distributed,
)
from tfrs_mtl.models.input_pipeline import build_dataset
from tfrs_mtl.models.multitask_config import MultiTaskConfig
from tfrs_mtl.models.multitask_model import MultiTaskModel
from tfrs_mtl.models.optimizers import averaging_momentum, build_optimizer
from tfrs_mtl.models.presets import ecommerce_config, movielens_config
from tfrs_mtl.models.task_predictions import predict_task_outputs
from tfrs_mtl.models.task_statistics import TaskStatistics

__all__ = [
    "Catalogue",
    "DistributedTrainingResult",
    "MultiTaskConfig",
    "MultiTaskModel",
    "TaskStatistics",
    "averaging_momentum",
    "build_dataset",
    "build_optimizer",
    "check_distributable",
    "ecommerce_config",
    "movielens_config",
    "predict_task_outputs",
    "train_distributed",
]
