"""tfrs_mtl.experiments: the jobs the CLI and notebooks run.

`run_experiment` trains, indexes, evaluates (beside baselines) and writes a run folder;
`evaluate_experiment` re-scores one; `cross_validate_experiment` runs every fold;
`complete_attributes` fills an item table's missing attributes from a trained model.

Example:
    >>> from tfrs_mtl.experiments import ExperimentConfig, run_experiment
    >>> result = run_experiment(ExperimentConfig(epochs=3), "runs/ml100k")  # doctest: +SKIP
    >>> result.metrics["retrieval/recall@10"], result.metrics["rating/rmse"]  # doctest: +SKIP
"""

from tfrs_mtl.experiments.attribute_predictions import complete_attributes
from tfrs_mtl.experiments.experiment_config import (
    BASELINE_ALIASES,
    BASELINES,
    ExperimentConfig,
    dataset_tasks,
)
from tfrs_mtl.experiments.experiment_cross_validation import (
    CrossValidationResult,
    cross_validate_experiment,
    fold_splits,
)
from tfrs_mtl.experiments.experiment_run import ExperimentResult, run_experiment
from tfrs_mtl.experiments.recommendation_table import recommend_users
from tfrs_mtl.experiments.saved_run_evaluation import evaluate_experiment, load_run_config
from tfrs_mtl.experiments.serving_data import ServingData

__all__ = [
    "BASELINES",
    "BASELINE_ALIASES",
    "CrossValidationResult",
    "ExperimentConfig",
    "ExperimentResult",
    "ServingData",
    "complete_attributes",
    "cross_validate_experiment",
    "dataset_tasks",
    "evaluate_experiment",
    "fold_splits",
    "load_run_config",
    "recommend_users",
    "run_experiment",
]
