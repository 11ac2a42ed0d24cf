"""`tfrs-mtl export` and `tfrs-mtl recommend`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tfrs_mtl._input_files import file_problem
from tfrs_mtl._messages import shown
from tfrs_mtl.cli.experiment_options import quiet_tensorflow_warnings
from tfrs_mtl.cli.options import fail, model_folder_option, read_id_lines
from tfrs_mtl.cli.output_files import (
    checked_export_folder,
    checked_output_file,
    refuse_incomplete_run,
    served_index_config,
    write_export_folder,
    write_output_file,
)

RUN_EXPORT = "export"
SERVING_DATA = "serving_data.npz"


@click.command()
@model_folder_option(
    "model_dir", "A run folder (from `tfrs-mtl train`) or a model folder (`save_model`)."
)
@click.option("--out", required=True, type=click.Path(path_type=str), help="Export folder.")
@click.option(
    "--index",
    "index_kind",
    type=click.Choice(("scann", "brute_force")),
    default=None,
    help="Index to build. [default: the run's, else scann]",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing export folder.")
@click.option(
    "--add-items",
    "add_items",
    type=click.Path(path_type=str),
    default=None,
    help="CSV or Parquet of new items (a column per candidate feature; multi-valued ones "
    "'|'-separated in CSV) to serve beside the catalogue, without retraining.",
)
def export(
    model_dir: str, out: str, index_kind: str | None, overwrite: bool, add_items: str | None
) -> None:
    """Exports the two-stage recommender (SavedModel with a ScaNN index and a manifest).

    From a run folder the catalogue is every item of the run and the users' query features
    (serving_data.npz) are copied beside it; from a bare model folder the catalogue is the
    model's training items. `--add-items` adds new items to it (`Recommender.add_items`): ids
    already in the catalogue are refused; ids the model never trained on are embedded from
    their other features; the file's display column (movie_title, category), where it has
    one, labels them in `recommend`'s output.
    """
    from tfrs_mtl.experiments import ServingData
    from tfrs_mtl.serving import IndexConfig, Recommender

    folder = checked_export_folder(out, "--out", overwrite=overwrite)
    run = Path(model_dir)
    model, catalogue = load_run_model(model_dir)
    index_config = IndexConfig()
    manifest = run / RUN_EXPORT / "manifest.json"
    if manifest.is_file():  # the index the run served (tuned, when it was)
        index_config = served_index_config(manifest)
    elif (run / "experiment.yaml").is_file():
        from tfrs_mtl.experiments import load_run_config

        index_config = load_run_config(run).index
    if index_kind is not None:
        index_config = index_config.replace(kind=index_kind)
    recommender = Recommender(model, catalogue, index_config, progress=False)
    serving = ServingData.load(run / SERVING_DATA) if (run / SERVING_DATA).is_file() else None
    if add_items is not None:
        from tfrs_mtl.serving.catalogue_encoding import read_items

        problem = file_problem(add_items)
        if problem is not None:
            fail(f"--add-items {add_items}: {problem}")
        label_column = _display_column(run)
        try:
            items = read_items(
                add_items, model, text_columns=[label_column] if label_column else []
            )
            added = recommender.add_items(items)
        except ValueError as error:
            fail(f"--add-items {add_items}: {error}")
        if serving is not None:
            new_ids = items[model.candidate_id_feature]
            labels = items[label_column] if label_column in items else [""] * len(new_ids)
            serving = serving.with_items(new_ids, labels)
        unknown = len(added.unknown_ids)
        click.echo(
            f"added {added.num_added} items from {add_items}"
            + (
                f" ({unknown} not in the model's vocabulary, embedded from their other "
                f"features: {list(added.unknown_ids[:5])}{' ...' if unknown > 5 else ''})"
                if unknown
                else ""
            )
        )
    written = write_export_folder(recommender, folder, serving)
    click.echo(
        f"exported {recommender.num_items} items ({recommender.index.config.kind}) to {written}"
    )


def load_run_model(model_dir: str) -> tuple[Any, dict[str, Any]]:
    """The trained `MultiTaskModel` of a run folder (or a model folder) and its item
    catalogue (`item_catalogue.npz`, else the model's own); fails in one line naming
    `--model` when the folder holds neither or the run is incomplete."""
    from tfrs_mtl.models import Catalogue, MultiTaskModel

    refuse_incomplete_run(model_dir, "--model")
    quiet_tensorflow_warnings()
    run = Path(model_dir)
    model_path = run / "model" if (run / "model" / "config.json").is_file() else run
    if not (model_path / "config.json").is_file():
        if (run / "manifest.json").is_file():
            # An export serves the item index; the towers and heads stay in the run folder.
            fail(
                f"--model {model_dir}: an export folder, which holds no trained model; pass "
                f"the run folder that wrote it (the one holding model/)"
            )
        fail(f"--model {model_dir}: neither a run folder nor a model folder (no config.json)")
    model = MultiTaskModel.load_model(model_path)
    catalogue_path = run / "item_catalogue.npz"
    catalogue = Catalogue.load(catalogue_path) if catalogue_path.is_file() else model.catalogue
    if catalogue is None:
        fail(f"{model_dir}: no item catalogue (item_catalogue.npz or the model's catalogue)")
    return model, dict(catalogue.features)


def _display_column(run: Path) -> str | None:
    """The item column a run shows beside recommendations (`movie_title`, `category`), or
    None (no run config, or a dataset registered in the process that trained it)."""
    from tfrs_mtl.experiments import load_run_config

    if not (run / "experiment.yaml").is_file():
        return None
    try:
        return load_run_config(run).recipe.display_column
    except ValueError:
        return None


def _export_folder(path: str) -> Path:
    folder = Path(path)
    if (folder / RUN_EXPORT / "manifest.json").is_file():
        return folder / RUN_EXPORT  # a run folder
    return folder


def _read_user_ids(path: str) -> list[str]:
    return read_id_lines(path, "--user-ids-file")


@click.command()
@model_folder_option("export_dir", "An export folder (or a run folder holding export/).")
@click.option("--user-id", default=None, help="The user to recommend for.")
@click.option(
    "--user-ids-file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="Batch mode: one user id per line.",
)
@click.option(
    "--output",
    default=None,
    type=click.Path(path_type=str),
    help="Batch mode: write the recommendations to FILE.csv or FILE.jsonl.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --output file.")
@click.option("-k", "k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--num-candidates", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--include-seen", is_flag=True, help="Do not exclude the user's training items.")
@click.option(
    "--blend",
    "blend_text",
    default=None,
    metavar="NAME=W,...",
    help="Weights of the final score, e.g. engagement=1,rating=0.5 (names: retrieval and the "
    "ranking tasks; each score standardised over the candidates).  [default: the export's "
    "fitted blend]",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
def recommend(
    export_dir: str,
    user_id: str | None,
    user_ids_file: str | None,
    output: str | None,
    overwrite: bool,
    k: int,
    num_candidates: int,
    include_seen: bool,
    blend_text: str | None,
    as_json: bool,
) -> None:
    """Recommends k items for a user (or a file of users) from an export.

    A known user's query features (MovieLens: age, gender, occupation, last timestamp) come
    from serving_data.npz, stored in the export by `train`/`export`; an unknown user id
    goes through the model's out-of-vocabulary row, its other features at their most
    common value (its history empty: with nothing else known of it, stage 1 retrieves by
    the learned item biases). Known users' training items are excluded unless
    --include-seen. The order is the export's default blend (fitted on validation data
    when it was trained) unless --blend gives another.
    """
    from tfrs_mtl.experiments import ServingData, recommend_users
    from tfrs_mtl.serving import ExportError, load
    from tfrs_mtl.serving.blend import checked_blend, parse_blend

    if (user_id is None) == (user_ids_file is None):
        fail("give exactly one of --user-id or --user-ids-file")
    if user_ids_file is not None and output is None and not as_json:
        fail("--user-ids-file needs --output FILE.csv|FILE.jsonl (or --json for stdout)")
    target = None
    if output is not None:
        target = checked_output_file(output, "--output", overwrite=overwrite)
    refuse_incomplete_run(export_dir, "--model")
    folder = _export_folder(export_dir)
    if not (folder / SERVING_DATA).is_file():
        fail(f"{folder}: no {SERVING_DATA}; export it with `tfrs-mtl export` from a run folder")
    try:
        recommender = load(folder)
    except ExportError as error:
        fail(str(error))
    blend = None
    if blend_text is not None:
        try:
            blend = checked_blend(parse_blend(blend_text), recommender.ranking_task_names)
        except (TypeError, ValueError) as error:
            fail(f"--blend: {error}")
    serving = ServingData.load(folder / SERVING_DATA)
    users = [user_id] if user_id is not None else _read_user_ids(str(user_ids_file))
    table = recommend_users(
        recommender,
        serving,
        users,
        k=k,
        num_candidates=num_candidates,
        exclude_seen=not include_seen,
        blend=blend,
    )
    records: list[dict[str, Any]] = json.loads(table.to_json(orient="records"))
    if target is not None:
        if target.suffix.lower() == ".csv":
            text = table.to_csv(index=False)
        else:
            text = "".join(json.dumps(r) + "\n" for r in records)
        write_output_file(target, text, "--output")
        click.echo(f"{len(records)} recommendations for {len(users)} users -> {target}")
    elif as_json:
        click.echo(json.dumps(records, indent=2))
    else:
        if user_id is not None and not serving.knows(user_id):
            click.echo(
                f"user {shown(user_id)} is unknown: recommending through the OOV path", err=True
            )
        click.echo(table.to_string(index=False, float_format=lambda value: f"{value:.4f}"))
