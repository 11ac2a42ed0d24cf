"""`tfrs-mtl quickstart`: the default joint model end to end in a few minutes."""

from __future__ import annotations

import time

import click

from tfrs_mtl.cli.experiment_options import (
    checked_output_path,
    parse_baselines,
    quiet_tensorflow_warnings,
)
from tfrs_mtl.cli.metric_tables import comparison_table
from tfrs_mtl.cli.options import FiniteFloatRange, fail
from tfrs_mtl.data.registry import DATASET_NAMES

SAMPLE_SIZE = 10


@click.command()
@click.option(
    "--dataset",
    type=click.Choice(DATASET_NAMES),
    default="movielens-100k",
    show_default=True,
    help="synthetic-ecommerce runs fully offline.",
)
@click.option("--data-dir", type=click.Path(path_type=str), default=None)
@click.option(
    "--out",
    type=click.Path(path_type=str),
    default="runs/quickstart",
    show_default=True,
    help="Run folder (replaced if it exists).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="[default: the library's, 6: the measured model]",
)
@click.option("--max-rows", type=click.IntRange(min=0), default=0, help="Sample (0: all rows).")
@click.option(
    "--baselines", default="all", show_default=True, help="Comma-separated list, or none."
)
@click.option(
    "--tune-index",
    "index_target_recall",
    type=FiniteFloatRange(min=0, max=1, min_open=True),
    default=0.95,
    show_default=True,
    help="Serve the fastest ScaNN configuration reaching this recall@10 against exact search.",
)
@click.option(
    "--item-item-weight",
    type=FiniteFloatRange(min=0),
    default=None,
    help="Weight of EASE's item-item scores of the user's history added to the served "
    "retrieval score; 0: off.  [default: fitted on a carve-out of the training rows where "
    "the query reads a history and the catalogue has at most 9,000 items, else off]",
)
@click.option("--user-id", default=None, help="The sample user (default: the first user).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or log lines.")
def quickstart(
    dataset: str,
    data_dir: str | None,
    out: str,
    epochs: int | None,
    max_rows: int,
    baselines: str,
    index_target_recall: float,
    item_item_weight: float | None,
    user_id: str | None,
    quiet: bool,
) -> None:
    """Trains the default joint model (retrieval, engagement, rating and genres on MovieLens;
    retrieval, engagement, click/cart/purchase and attributes on e-commerce), fits the served
    blend on a validation carve-out of the training rows, builds the ScaNN index, prints what
    `recommend` serves and stage 1 alone beside the baselines, ten recommendations for a
    sample user with every ranking task's score, and writes the report."""
    from tfrs_mtl.config import ConfigError
    from tfrs_mtl.data import DataError, DataNotFoundError
    from tfrs_mtl.experiments import BASELINES, ExperimentConfig, recommend_users, run_experiment
    from tfrs_mtl.experiments.experiment_config import default_baselines
    from tfrs_mtl.experiments.run_outputs import IncompleteRunError, run_folder_state
    from tfrs_mtl.serving import load
    from tfrs_mtl.serving.blend import format_blend

    start = time.perf_counter()
    quiet_tensorflow_warnings()
    folder = checked_output_path(out, "--out")
    if run_folder_state(folder) == "foreign":  # it replaces a run folder, not the user's files
        fail(f"--out {out} holds files that are not a tfrs_mtl run; choose another folder")
    chosen = parse_baselines(baselines)
    if chosen is None or chosen == BASELINES:
        chosen = default_baselines(dataset)
    try:
        config = ExperimentConfig(
            dataset=dataset,
            data_dir=data_dir,
            epochs=ExperimentConfig.epochs if epochs is None else epochs,
            max_rows=max_rows,
            baselines=chosen,
            index_target_recall=index_target_recall,
            item_item_weight=item_item_weight,
        )
        result = run_experiment(config, folder, progress=not quiet, overwrite=True)
    except (
        ConfigError,
        DataError,
        DataNotFoundError,
        FileExistsError,
        IncompleteRunError,
    ) as error:
        fail(str(error))
    click.echo("")
    click.echo(f"== {dataset}: the joint model ({', '.join(config.task_names)}) vs baselines ==")
    click.echo(comparison_table(result.metrics))
    serving = result.serving_data
    user = user_id if user_id is not None else str(serving.user_ids[0])
    exported = load(folder / "export")  # the saved artifact, as a server would load it
    table = recommend_users(exported, serving, [user], k=SAMPLE_SIZE)
    known = "known user" if serving.knows(user) else "unknown user: OOV path"
    click.echo("")
    click.echo(
        f"== top {SAMPLE_SIZE} for user {user} ({known}; training items excluded; ranked by "
        f"the fitted blend {format_blend(exported.default_blend)}) =="
    )
    shown = table.drop(columns=["user_id", "known_user"])
    if "item" in shown:
        shown["item"] = shown["item"].str.slice(0, 40)
    click.echo(shown.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    click.echo("")
    click.echo(f"report: {folder / 'report.md'}   export: {folder / 'export'}")
    click.echo(f"quickstart finished in {time.perf_counter() - start:.0f} s")
