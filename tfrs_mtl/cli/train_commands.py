"""`tfrs-mtl train`, `tfrs-mtl evaluate` and `tfrs-mtl cv`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tfrs_mtl._atomic_files import UnsafeOutputPathError, refuse_links_inside
from tfrs_mtl.cli.experiment_options import (
    build_config,
    experiment_options,
    quiet_tensorflow_warnings,
    split_overrides,
)
from tfrs_mtl.cli.metric_tables import comparison_table, summary_table
from tfrs_mtl.cli.options import fail, model_folder_option, output_path

split_option = click.option(
    "--split",
    default=None,
    help="tutorial (the TFRS tutorials' 80/20, default), random, temporal, leave_last_n, "
    "kfold, canonical, or an ml-100k fold name u1..u5, ua, ub.",
)
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="No progress bars or log lines (for pipelines)."
)


def _run_errors(*extra: type[Exception]) -> tuple[type[Exception], ...]:
    """The errors a run reports as `Error: ...` (imported late: they pull in TensorFlow)."""
    from tfrs_mtl.config import ConfigError
    from tfrs_mtl.data import DataError, DataNotFoundError
    from tfrs_mtl.experiments.run_outputs import IncompleteRunError
    from tfrs_mtl.models.divergence import TrainingDivergedError
    from tfrs_mtl.serving import ExportError

    return (
        ConfigError,
        DataError,
        DataNotFoundError,
        ExportError,
        FileExistsError,
        IncompleteRunError,
        TrainingDivergedError,
        *extra,
    )


@click.command()
@experiment_options
@split_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=str),
    help="Run folder: model/, export/, metrics.json, history.json, report.md, tensorboard/. "
    "An interrupted run in it (same options) is resumed.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the files of a non-empty --out (an interrupted run in it starts over).",
)
@click.option(
    "--backup-every",
    "backup_every_steps",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Training steps between backups of the training state in OUT/.backup (a killed run "
    "resumes from the last one); one is also made at every epoch's end.",
)
@click.option(
    "--tune",
    "tune_budget",
    default=None,
    metavar="DURATION",
    help="First search the knobs for this long (`tfrs-mtl tune`, e.g. 20m) on a validation "
    "carve-out of the training rows, then train the best config; the search's report goes "
    "to OUT/tuning/. A --tune run is not resumed (the search may end elsewhere).",
)
@quiet_option
def train(
    out: str,
    overwrite: bool,
    backup_every_steps: int,
    tune_budget: str | None,
    quiet: bool,
    split: str | None,
    **options: Any,
) -> None:
    """Trains a multi-task model, builds its index, evaluates it beside baselines and writes
    the run folder.

    Rerun with the same options and --out to resume a run that was killed or interrupted
    (it continues from its last backup and ends with the same metrics); a finished --out is
    refused unless --overwrite.

    Example: tfrs-mtl train --dataset movielens-100k --tasks retrieval,rating,genres
    --architecture mmoe --weighting uncertainty --epochs 3 --out runs/ml100k
    """
    from tfrs_mtl.experiments import run_experiment

    folder = output_path(out, "--out")
    config = build_config(split=split, **options)
    quiet_tensorflow_warnings()
    tuning = None
    if tune_budget is not None:
        from tfrs_mtl.cli.tune_command import parsed_budget
        from tfrs_mtl.experiments.tuning import tune_experiment

        try:
            tuning = tune_experiment(
                config, parsed_budget(tune_budget, "--tune"), None, progress=not quiet
            )
        except RuntimeError as error:
            fail(str(error))
        config = tuning.best_config
    try:
        result = run_experiment(
            config,
            folder,
            progress=not quiet,
            overwrite=overwrite,
            backup_every_steps=backup_every_steps,
        )
    except _run_errors() as error:
        fail(str(error))
    if tuning is not None:
        from tfrs_mtl.experiments.tuning import write_tuning_report

        write_tuning_report(tuning, folder / "tuning")
    if not quiet:
        click.echo(comparison_table(result.metrics))
        click.echo(f"report: {folder / 'report.md'}")
    click.echo(str(folder))


@click.command()
@model_folder_option("run_dir", "A run folder written by `tfrs-mtl train`.")
@split_option
@click.option("--baselines", default=None, help="Baselines to score beside it (default: none).")
@click.option("--json", "as_json", is_flag=True, help="Print the flat metrics as JSON.")
@quiet_option
def evaluate(
    run_dir: str, split: str | None, baselines: str | None, as_json: bool, quiet: bool
) -> None:
    """Re-evaluates the saved model of a run folder (its own split, or --split).

    Writes OUT/evaluations/<split>/metrics.json and report.md. A split other than the
    training one may test on training rows: its metrics are then optimistic.
    """
    from tfrs_mtl.cli.experiment_options import parse_baselines
    from tfrs_mtl.data.split_config import SplitConfig
    from tfrs_mtl.experiments import evaluate_experiment, load_run_config

    try:  # it writes into RUN/evaluations: never through a link there
        refuse_links_inside(Path(run_dir) / "evaluations")
    except UnsafeOutputPathError as error:
        fail(f"--model: {error}")
    try:
        config = load_run_config(run_dir)
    except _run_errors(FileNotFoundError) as error:
        fail(str(error))
    override = split_overrides(split, config.split.to_dict())
    split_config = SplitConfig.from_dict(override) if override is not None else None
    try:
        metrics = evaluate_experiment(
            run_dir, split_config, baselines=parse_baselines(baselines), progress=not quiet
        )
    except _run_errors() as error:
        fail(str(error))
    click.echo(json.dumps(metrics, indent=2) if as_json else comparison_table(metrics))


@click.command()
@experiment_options
@click.option(
    "--folds",
    default="5",
    show_default=True,
    help="k for seeded k-fold, or ml-100k canonical folds: u1-u5 (or e.g. ua,ub).",
)
@click.option(
    "--out",
    default=None,
    type=click.Path(path_type=str),
    help="Folder for cv.json (mean, std and per-fold metrics).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {metric: [mean, std]} as JSON.")
@quiet_option
def cv(folds: str, out: str | None, as_json: bool, quiet: bool, **options: Any) -> None:
    """Cross-validates an experiment: trains and evaluates on every fold (the index is
    rebuilt per fold) and prints mean ± std per metric."""
    from tfrs_mtl.experiments import cross_validate_experiment, fold_splits

    try:
        fold_splits(folds)
    except ValueError as error:
        fail(f"--folds: {error}")
    folder = output_path(out, "--out") if out is not None else None
    config = build_config(**options)
    try:
        result = cross_validate_experiment(config, folds, folder, progress=not quiet)
    except _run_errors(ValueError) as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps({name: list(pair) for name, pair in result.summary.items()}))
    else:
        click.echo(summary_table(result.summary, len(result.folds)))
