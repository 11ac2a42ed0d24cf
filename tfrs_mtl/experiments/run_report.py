"""`write_run_report`: the report of a run, written so that a failure leaves no metrics.json."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from tfrs_mtl.evaluation import write_report
from tfrs_mtl.experiments import run_outputs as files
from tfrs_mtl.experiments.experiment_baselines import BaselineEvaluation
from tfrs_mtl.experiments.experiment_config import ExperimentConfig

#: How a run's report labels the per-epoch `val_*` losses (`experiment_run.run_history`): the
#: validation carve-out's, under the blend fit's model, which trained on the other training rows.
VALIDATION_CURVES = "validation (carve-out)"


def write_run_report(
    out: Path,
    metrics: dict[str, dict[str, float]],
    baselines: BaselineEvaluation,
    recall_curve: np.ndarray,
    *,
    history: dict[str, list[float]] | None,
    train_seconds: float | None,
    title: str,
    notes: str = "",
) -> None:
    """`write_report` into a staging folder, then moved into `out` (`metrics.json` last)."""
    staging = out / f".report-{time.time_ns()}"
    try:
        curves = {"model": recall_curve} if len(recall_curve) else {}
        curves.update(baselines.recall_curves)
        write_report(
            staging,
            metrics,
            history=history,
            baselines=baselines.metrics,
            recall_curves=curves,
            train_seconds=train_seconds,
            title=title,
            monitored=VALIDATION_CURVES,
        )
        if notes:
            report = staging / files.REPORT_FILE
            report.write_text(report.read_text(encoding="utf-8") + "\n" + notes, "utf-8")
        files.move_files_into(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def experiment_yaml(config: ExperimentConfig) -> str:
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False)
