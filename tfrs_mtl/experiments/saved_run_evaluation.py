"""`evaluate_experiment`: re-scores the saved model of a run folder on a split."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from tfrs_mtl._atomic_files import safe_component
from tfrs_mtl.data.split_config import SplitConfig
from tfrs_mtl.evaluation.metrics_schema import flatten_metrics
from tfrs_mtl.experiments import run_outputs as files
from tfrs_mtl.experiments.experiment_baselines import run_baselines
from tfrs_mtl.experiments.experiment_config import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
from tfrs_mtl.experiments.experiment_run import progress_logger
from tfrs_mtl.experiments.model_evaluation import evaluate_model, item_catalogue, user_table
from tfrs_mtl.experiments.run_lock import LOCK_FILE, output_lock
from tfrs_mtl.experiments.run_report import write_run_report
from tfrs_mtl.models import MultiTaskModel
from tfrs_mtl.serving import IndexConfig, Recommender


def load_run_config(out_dir: str | Path) -> ExperimentConfig:
    """The `ExperimentConfig` of a finished run folder.

    Raises:
        FileNotFoundError: not a run folder.
        IncompleteRunError: the run did not finish (see `run_outputs`).
    """
    path = Path(out_dir) / files.EXPERIMENT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir}: no {files.EXPERIMENT_FILE}; not a run folder")
    files.refuse_incomplete_run(out_dir)
    return ExperimentConfig.load(path)


def evaluate_experiment(
    out_dir: str | Path,
    split: SplitConfig | None = None,
    *,
    baselines: tuple[str, ...] | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Re-scores the saved model of a run folder, on its own split or another one: what
    `recommend` serves with the model's fitted blend (`served/*`), stage 1 and the tasks.

    Writes `OUT/evaluations/<split>/metrics.json` and `report.md`.

    Args:
        out_dir: a run folder written by `run_experiment`.
        split: a `SplitConfig` (or None for the run's own split). Another split may put
            training rows in its test set: the metrics are then optimistic.
        baselines: baselines to score beside it (default: none).
        progress: log lines on stderr.

    Returns:
        The flat metrics.
    """
    out = Path(out_dir)
    with output_lock(out / LOCK_FILE, f"the run folder {out}"):
        return _evaluate_locked(out, split, baselines, progress)


def _evaluate_locked(
    out: Path, split: SplitConfig | None, baselines: tuple[str, ...] | None, progress: bool
) -> dict[str, float]:
    log = progress_logger(progress)
    config = load_run_config(out)
    if split is not None and split != config.split:
        warnings.warn(
            f"evaluating on split {split_name(split)} while the model was trained on split "
            f"{split_name(config.split)}: test rows may have been trained on, so the metrics "
            "can be optimistic",
            UserWarning,
            stacklevel=2,
        )
        config = config.replace(split=split)
    config = config.replace(baselines=tuple(baselines or ()))
    log(f"loading {out / files.MODEL_DIR}")
    model = MultiTaskModel.load_model(out / files.MODEL_DIR)
    data = load_experiment_data(config)
    train_positions, test_positions = split_experiment_data(data, config.split)
    catalogue = item_catalogue(data, model)
    users = user_table(data, model, train_positions)
    recommender = Recommender(model, catalogue, served_index_config(out, config), progress=False)
    log("evaluating (full ranking, training items masked)")
    evaluation = evaluate_model(
        model,
        recommender,
        data,
        train_positions,
        test_positions,
        users,
        config.ks,
        num_candidates=config.num_candidates,
    )
    baseline_results = run_baselines(config, data, train_positions, test_positions, log)
    name = split_name(config.split)
    target = out / "evaluations" / name
    target.mkdir(parents=True, exist_ok=True)
    write_run_report(
        target,
        evaluation.metrics,
        baseline_results,
        evaluation.recall_curve,
        history=None,
        train_seconds=None,
        title=f"tfrs_mtl evaluation: {config.dataset}, split {name}",
    )
    return flatten_metrics(evaluation.metrics, baselines=baseline_results.metrics)


def served_index_config(out_dir: str | Path, config: ExperimentConfig) -> IndexConfig:
    """The index the run served: its export's (tuned, when it was), else the config's."""
    manifest = Path(out_dir) / files.EXPORT_DIR / "manifest.json"
    if manifest.is_file():
        return IndexConfig.from_dict(json.loads(manifest.read_text("utf-8"))["index_config"])
    return config.index


def split_name(split: SplitConfig) -> str:
    """A short name of a split: `tutorial`, `u1`, `kfold-2-of-5`, ..."""
    if split.method == "canonical":
        name = split.canonical_fold
    elif split.method == "kfold":
        name = f"kfold-{split.fold_index}-of-{split.num_folds}"
    else:
        name = split.method
    # The name becomes a folder under RUN/evaluations: one plain path component only.
    return safe_component(name, "split name")
