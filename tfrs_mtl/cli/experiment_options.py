"""Options and helpers of the experiment commands (`train`, `cv`, `quickstart`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tfrs_mtl._choices import ARCHITECTURES, PRESETS, WEIGHTINGS
from tfrs_mtl._messages import shown
from tfrs_mtl.cli.options import FiniteFloatRange, fail, output_path
from tfrs_mtl.data.registry import DATASET_NAMES
from tfrs_mtl.data.split_config import MAX_SEED

SPLIT_CHOICES = ("tutorial", "random", "temporal", "leave_last_n", "kfold", "canonical")
CANONICAL_NAMES = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


def quiet_tensorflow_warnings() -> None:
    """Keeps TensorFlow's Python-side warnings (SavedModel serialization notes about Keras
    internals that a user cannot act on) off the terminal; errors still show. `--verbose`
    (`TFRS_MTL_VERBOSE=1`) keeps them."""
    import tensorflow as tf

    from tfrs_mtl._native_logs import verbose

    if not verbose():
        tf.get_logger().setLevel("ERROR")


def checked_output_path(path: str, option: str, *, is_file: bool = False) -> Path:
    """`path` checked by the output-path rule (`tfrs_mtl.cli.options.output_path`)."""
    return output_path(path, option, is_file=is_file)


def parse_list(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_baselines(value: str | None) -> tuple[str, ...] | None:
    """`popularity,ease,knn,mf,tfrs_tutorial`, `all` or `none`; the opt-in ones
    (`attribute_single_task`) only by name."""
    from tfrs_mtl.experiments.experiment_config import (
        BASELINE_ALIASES,
        BASELINES,
        OPTIONAL_BASELINES,
    )

    names = parse_list(value)
    if names is None:
        return None
    if names in (("none",), ()):
        return ()
    if names == ("all",):
        return BASELINES
    canonical = tuple(BASELINE_ALIASES.get(name, name) for name in names)
    unknown = [name for name in canonical if name not in BASELINES + OPTIONAL_BASELINES]
    if unknown:
        fail(
            f"--baselines: unknown {unknown}; expected a comma-separated list of "
            f"{list(BASELINES + OPTIONAL_BASELINES)} (or mf, tutorial), 'all' or 'none'"
        )
    return canonical


def split_overrides(split: str | None, base: dict[str, Any]) -> dict[str, Any] | None:
    """The `split` section for `--split` (a method, or a canonical fold name like `u1`)."""
    if split is None:
        return None
    if split in CANONICAL_NAMES:
        return {**base, "method": "canonical", "canonical_fold": split}
    if split not in SPLIT_CHOICES:
        fail(
            f"--split {split!r}: expected one of {list(SPLIT_CHOICES)} or a canonical ml-100k "
            f"fold {list(CANONICAL_NAMES)}"
        )
    return {**base, "method": split}


def experiment_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options that build an `ExperimentConfig` (each overrides `--config`)."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="An ExperimentConfig YAML/JSON file; the options below override it.",
        ),
        click.option(
            "--preset",
            type=click.Choice(PRESETS),
            default=None,
            help="Start from this named config (default: the recommended model; "
            "tfrs-tutorial: the TFRS tutorial's recipe); --config and the options below "
            "override it.",
        ),
        click.option(
            "--dataset",
            type=click.Choice(DATASET_NAMES),
            default=None,
            help="Which dataset to read. [default: movielens-100k]",
        ),
        click.option(
            "--data-dir",
            type=click.Path(path_type=str),
            default=None,
            help="The dataset's own folder (or zip). Default: $TFRS_MTL_DATA_DIR/<official "
            "folder name>, then TFDS for MovieLens.",
        ),
        click.option(
            "--max-rows",
            type=click.IntRange(min=0),
            default=None,
            help="Keep a seeded sample of this many interactions (0: all). For smoke runs.",
        ),
        click.option(
            "--tasks",
            default=None,
            help="Comma-separated tasks to train, e.g. retrieval,rating,genres "
            "(MovieLens) or retrieval,click,purchase (e-commerce). Default: all of the preset "
            "but the opt-in interest task (name it to add it).",
        ),
        click.option("--architecture", type=click.Choice(ARCHITECTURES), default=None),
        click.option("--weighting", type=click.Choice(WEIGHTINGS), default=None),
        click.option(
            "--retrieval-negatives",
            type=click.Choice(("in_batch", "logq", "full_catalogue")),
            default=None,
            help="Retrieval softmax negatives. [default: full_catalogue up to 50,000 items, "
            "logq above]",
        ),
        click.option(
            "--retrieval-positives",
            type=click.Choice(("item", "history")),
            default=None,
            help="MovieLens: 'history' also makes the user's history movies positives of the "
            "full-catalogue softmax (Mult-DAE's multinomial likelihood). [default: history]",
        ),
        click.option(
            "--retrieval-temperature",
            type=FiniteFloatRange(min=0, min_open=True),
            default=None,
            help="Softmax temperature of the retrieval task. [default: 0.3]",
        ),
        click.option(
            "--history-dropout",
            type=FiniteFloatRange(min=0, max=1, max_open=True),
            default=None,
            help="MovieLens: share of history items left out of each training step. [default: 0]",
        ),
        click.option(
            "--user-id-dropout",
            type=FiniteFloatRange(min=0, max=1, max_open=True),
            default=None,
            help="MovieLens: share of training rows whose user id the query tower reads as "
            "unknown. [default: 0.5]",
        ),
        click.option(
            "--item-id-dropout",
            type=FiniteFloatRange(min=0, max=1, max_open=True),
            default=None,
            help="Share of training rows (and catalogue rows of the retrieval softmax) whose "
            "item id the candidate tower reads as unknown, so it learns to embed items from "
            "their attributes alone (for items added after training). [default: 0.5 where "
            "the category is read (--category-input), else 0]",
        ),
        click.option(
            "--category-input/--no-category-input",
            default=None,
            help="E-commerce: the candidate tower also reads the item's category (no "
            "category task then), so with --item-id-dropout items with few or no "
            "interactions are ranked by their category. [default: on where at least half "
            "of the training interactions are with items that have no other, else off]",
        ),
        click.option(
            "--item-item-weight",
            type=FiniteFloatRange(min=0),
            default=None,
            help="Weight of EASE's item-item scores of the user's history added to the "
            "served retrieval score (the towers train without them); 0: off. [default: "
            "fitted on a carve-out of the training rows where the query reads a history and "
            "the catalogue has at most 9,000 items, else off]",
        ),
        click.option(
            "--item-item-recency",
            type=FiniteFloatRange(min=0),
            default=None,
            help="How much the item-item scores lean on the user's latest items: the "
            "history item followed by r others weighs (1 + r) ** -RECENCY; 0: all alike. "
            "[default: fitted with the item-item weight where the rows have timestamps, "
            "else 0]",
        ),
        click.option("--epochs", type=click.IntRange(min=1), default=None, help="[default: 6]"),
        click.option("--batch-size", type=click.IntRange(min=1), default=None),
        click.option("--optimizer", type=click.Choice(("adam", "adagrad")), default=None),
        click.option("--learning-rate", type=FiniteFloatRange(min=0, min_open=True), default=None),
        click.option("--embedding-dim", type=click.IntRange(min=1), default=None),
        click.option(
            "--seed",
            type=click.IntRange(0, MAX_SEED),
            default=None,
            help="Seeds initialisation, shuffling, sampling and baselines. [default: 42]",
        ),
        click.option(
            "--index",
            "index_kind",
            type=click.Choice(("scann", "brute_force")),
            default=None,
            help="Candidate index served and evaluated. [default: scann]",
        ),
        click.option(
            "--tune-index",
            "index_target_recall",
            type=FiniteFloatRange(min=0, max=1, min_open=True),
            default=None,
            help="Serve the fastest index reaching this recall@10 against exact search "
            "(tune_index on the users' query embeddings).",
        ),
        click.option(
            "--blend",
            "blend_text",
            default=None,
            metavar="NAME=W,...",
            help="Serve this blend of the final score (e.g. engagement=1,rating=0.5) instead "
            "of fitting one on a validation carve-out of the training rows.",
        ),
        click.option(
            "--blend-target",
            default=None,
            help="What the fitted blend ranks best on the carve-out: a 0/1 behaviour such as "
            "purchase, the rating column (graded gains), or 'interactions'.  [default: "
            "purchase where present, else the rating where present, else interactions]",
        ),
        click.option(
            "--baselines",
            default=None,
            help="Comma-separated baselines run beside the model: popularity, ease, knn "
            "(item_knn), mf (matrix_factorization), tfrs_tutorial; 'all' (default) or 'none'; "
            "attribute_single_task (with --attribute-holdout; trains a second model) only by "
            "name.",
        ),
        click.option(
            "--attribute-holdout",
            # A plain float: the config's check refuses -0.1, 1 and nan in one line.
            type=float,
            default=None,
            metavar="SHARE",
            help="Hide the attributes (genres; category, price, brand) of this share of the "
            "training items, stratified by label, and score the model's completion of them "
            "(from the closest known items in its item space; its heads' as head_*) beside "
            "label-frequency and item-kNN baselines; in [0, 1). [default: 0, off]",
        ),
        click.option(
            "--cold-items",
            type=float,
            default=None,
            metavar="SHARE",
            help="Remove every training interaction of this share of the items and score how "
            "well they are retrieved and served from their attributes alone, beside a "
            "category-popularity baseline; in [0, 1). [default: 0, off]",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def with_events_path_resolved(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """`data` with a relative `events.path` made absolute against `folder` (the config
    file's), so a run's saved config finds the table from anywhere."""
    events = data.get("events")
    if isinstance(events, dict) and isinstance(events.get("path"), str) and events["path"]:
        path = Path(events["path"]).expanduser()
        if not path.is_absolute():
            data["events"] = {**events, "path": str((folder / path).resolve())}
    return data


def build_config(
    config_path: str | None,
    dataset: str | None,
    data_dir: str | None,
    max_rows: int | None,
    tasks: str | None,
    architecture: str | None,
    weighting: str | None,
    retrieval_negatives: str | None,
    epochs: int | None,
    batch_size: int | None,
    optimizer: str | None,
    learning_rate: float | None,
    embedding_dim: int | None,
    seed: int | None,
    index_kind: str | None,
    index_target_recall: float | None,
    baselines: str | None,
    split: str | None = None,
    defaults: dict[str, Any] | None = None,
    retrieval_positives: str | None = None,
    retrieval_temperature: float | None = None,
    history_dropout: float | None = None,
    user_id_dropout: float | None = None,
    item_item_weight: float | None = None,
    item_item_recency: float | None = None,
    blend_text: str | None = None,
    blend_target: str | None = None,
    preset: str | None = None,
    attribute_holdout: float | None = None,
    item_id_dropout: float | None = None,
    category_input: bool | None = None,
    cold_items: float | None = None,
) -> Any:
    """An `ExperimentConfig` from `--preset`, `--config` (or `defaults`) and the given
    options, each overriding the one before."""
    from tfrs_mtl.config import ConfigError
    from tfrs_mtl.config.config_files import read_config_file
    from tfrs_mtl.experiments import ExperimentConfig
    from tfrs_mtl.serving.blend import parse_blend

    data: dict[str, Any] = dict(defaults or {})
    if config_path is not None:
        try:  # the file's own keys: defaults that depend on the dataset still apply
            loaded = read_config_file(config_path)
        except ConfigError as error:
            fail(str(error))
        if loaded is not None and not isinstance(loaded, dict):
            fail(
                f"{config_path}: ExperimentConfig: expected a mapping, got {shown(loaded)} "
                f"({type(loaded).__name__})"
            )
        data = with_events_path_resolved(dict(loaded or {}), Path(config_path).parent)
    if preset is not None:
        data["preset"] = preset
    if tasks is not None and not parse_list(tasks):
        fail(f"--tasks {shown(tasks)}: no task names; expected a list such as retrieval,rating")
    overrides = {
        "dataset": dataset,
        "data_dir": data_dir,
        "max_rows": max_rows,
        "tasks": parse_list(tasks),
        "architecture": architecture,
        "weighting": weighting,
        "retrieval_negatives": retrieval_negatives,
        "retrieval_positives": retrieval_positives,
        "retrieval_temperature": retrieval_temperature,
        "history_dropout": history_dropout,
        "user_id_dropout": user_id_dropout,
        "item_item_weight": item_item_weight,
        "item_item_recency": item_item_recency,
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "embedding_dim": embedding_dim,
        "seed": seed,
        "index_target_recall": index_target_recall,
        "baselines": parse_baselines(baselines),
        "split": split_overrides(split, _mapping(data.get("split"))),
        "blend_target": blend_target,
        "attribute_holdout": attribute_holdout,
        "item_id_dropout": item_id_dropout,
        "category_input": category_input,
        "cold_items": cold_items,
    }
    if blend_text is not None:
        try:
            overrides["blend"] = parse_blend(blend_text)
        except ValueError as error:
            fail(f"--blend: {error}")
    data.update({key: value for key, value in overrides.items() if value is not None})
    if index_kind is not None:
        data["index"] = {**_mapping(data.get("index")), "kind": index_kind}
    try:
        return ExperimentConfig.from_dict(_plain(data))
    except ConfigError as error:
        fail(f"{config_path}: {error}" if config_path is not None else str(error))


def _mapping(value: Any) -> dict[str, Any]:
    """A section of the config file as a dict to override keys of (not a mapping: none)."""
    return dict(value) if isinstance(value, dict) else {}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
