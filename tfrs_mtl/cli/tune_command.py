"""`tfrs-mtl tune`: search the knobs that matter for a dataset, on a validation carve-out."""

from __future__ import annotations

from typing import Any

import click

from tfrs_mtl.cli.experiment_options import (
    build_config,
    experiment_options,
    quiet_tensorflow_warnings,
)
from tfrs_mtl.cli.options import fail, output_path

budget_option = click.option(
    "--budget",
    required=True,
    metavar="DURATION",
    help="Wall time of the search and its confirmation, e.g. 20m, 90s, 1.5h: no trial "
    "starts after it, and a running one stops at its next epoch end.",
)
max_trials_option = click.option(
    "--max-trials",
    type=click.IntRange(min=1, max=10_000),
    default=None,
    help="Stop after this many trials (default: only the budget stops the search).",
)


def parsed_budget(text: str, option: str = "--budget") -> float:
    from tfrs_mtl.experiments.tuning import parse_budget

    try:
        return parse_budget(text)
    except ValueError as error:
        fail(f"{option}: {error}")


@click.command()
@experiment_options
@budget_option
@max_trials_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=str),
    help="Folder for best_config.yaml, trials.csv, tuning.md and tuning_history.png.",
)
@click.option("--quiet", "-q", is_flag=True, help="No log lines.")
def tune(budget: str, max_trials: int | None, out: str, quiet: bool, **options: Any) -> None:
    """Searches the retrieval temperature, learning rate, epochs, embedding size, task
    weights, dropouts and item-item weight for a dataset with Optuna, on a validation
    carve-out of the training rows (weak trials pruned after each epoch; no test row read).
    The best trials and the config as given are then trained again on a second carve-out,
    and the best there is written for `tfrs-mtl train --config OUT/best_config.yaml` (the
    config as given, unless a searched one beats it on both carve-outs).

    Example: tfrs-mtl tune --dataset retailrocket --budget 20m --out runs/tune-rr
    """
    from tfrs_mtl.experiments.tuning import BEST_CONFIG_FILE, tune_experiment

    seconds = parsed_budget(budget)
    folder = output_path(out, "--out")
    config = build_config(**options)
    quiet_tensorflow_warnings()
    try:
        result = tune_experiment(config, seconds, folder, max_trials=max_trials, progress=not quiet)
    except RuntimeError as error:
        fail(str(error))
    default = "" if result.default_value is None else f" (as given: {result.default_value:.4f})"
    chosen = "the config as given" if result.chosen_trial == 0 else f"trial {result.chosen_trial}"
    click.echo(f"chose {chosen}: validation NDCG@10 {result.best_value:.4f}{default}")
    for found in result.confirmation:
        click.echo(
            f"  trial {found['number']} on the second carve-out: NDCG@10 {found['confirmed']:.4f}"
        )
    click.echo(str(folder / BEST_CONFIG_FILE))
