"""Dataset recipes: what each family of datasets trains and how its frame is read.

A `Recipe` holds everything that differs between families (rated movies, e-commerce
behaviour logs): the default tasks and their loss weights, the ranking architecture, the
frame's columns (item id, rating or positive label, display and interest-class columns),
whether the query tower reads the user's training items, whether the TFRS tutorial applies,
and how the preset `MultiTaskConfig` and the experiment's frame are built. The experiment
code asks the recipe (`recipe_for(dataset)`) instead of branching on dataset names; the
parts that depend on the data's size (`ExperimentConfig.item_item_weight_for`) switch on
its shape, not its name.

A user's own data joins the same way: `register_dataset(name, recipe)`, e.g. with
`event_table_recipe` for any CSV/Parquet event log read through a column map, then
`ExperimentConfig(dataset=name)` trains it (in that process). An experiment config with an
`events` block (`EventTableSource`: the file, its column map and behaviour map) registers
its dataset itself, so the same thing works from a YAML file and `tfrs-mtl train --config`,
and a run's saved config reloads it in a fresh process.

Example:
    >>> register_dataset("my-shop", event_table_recipe(  # doctest: +SKIP
    ...     "events.csv", {"user_id": "visitor", "item_id": "sku", "behavior": "event"},
    ...     behavior_map={"view": "click", "basket": "cart", "order": "purchase"}))
    >>> run_experiment(ExperimentConfig(dataset="my-shop"), "runs/my-shop")  # doctest: +SKIP

The same from YAML (`tfrs-mtl train --config my-shop.yaml --out runs/my-shop`):

    dataset: my-shop
    events:
      path: events.csv            # relative to the YAML file
      columns: {user_id: visitor, item_id: sku, behavior: event, timestamp: ts}
      behaviors: {view: click, basket: cart, order: purchase}
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tfrs_mtl._choices import Architecture
from tfrs_mtl.config.base import Config, require
from tfrs_mtl.data.movielens_schema import MOVIELENS_NAMES
from tfrs_mtl.data.registry import ECOMMERCE_NAMES

if TYPE_CHECKING:
    import pandas as pd

    from tfrs_mtl.experiments.experiment_config import ExperimentConfig
    from tfrs_mtl.models import MultiTaskConfig


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one family of datasets is trained and read.

    Attributes:
        name: the family (`movielens`, `ecommerce`).
        tasks: the tasks trained by default (`ExperimentConfig.tasks` empty).
        task_weights: fixed loss weights over the preset's, before the config's own.
        architecture: the ranking stack when the config names none.
        item_column: the frame's item id column.
        rating_column: the explicit rating column, or None.
        positive_column: the 0/1 column marking retrieval positives, or None when every
            row is one.
        display_column: the item column shown beside recommendations (None, or absent from
            the frame: ids only).
        interest_column: the item column whose classes make up the interest profile.
        reads_history: the query tower reads the user's training items (integer item ids);
            with it come the identity embeddings, the dense item-item part, a per-item
            retrieval bias and the user-id dropout.
        tfds_tutorial: the data is the TFDS MovieLens tutorial's: the `tutorial` split
            follows TFDS's order and the `tfrs_tutorial` baseline applies.
        preset: builds the family's `MultiTaskConfig` from an experiment config and the
            resolved item-item weight.
        load_frame: reads (or generates) the experiment's frame, one row per interaction.
    """

    name: str
    tasks: tuple[str, ...]
    task_weights: Mapping[str, float]
    architecture: Architecture
    item_column: str
    rating_column: str | None
    positive_column: str | None
    display_column: str | None
    interest_column: str
    reads_history: bool
    tfds_tutorial: bool
    preset: Callable[[ExperimentConfig, float], MultiTaskConfig]
    load_frame: Callable[[ExperimentConfig], pd.DataFrame]


def _movielens_preset(config: ExperimentConfig, item_item_weight: float) -> MultiTaskConfig:
    from tfrs_mtl.models import movielens_config

    return _with_id_dropout(
        config,
        movielens_config(
            embedding_dim=config.embedding_dim,
            architecture=config.architecture or MOVIELENS.architecture,
            weighting=config.weighting,
            user_history=config.user_history_length > 0,
            side_features=config.side_features,
            use_interest=config.use_interest,
            history_dropout=config.history_dropout,
            use_l2_norm=config.use_l2_norm,
            identity_embeddings=config.identity_embeddings,
            history_clusters=config.history_clusters,
            item_item_weight=item_item_weight,
            item_item_train_weight=config.item_item_train_weight if item_item_weight else None,
            use_engagement="engagement" in config.task_names,
        ),
    )


def _ecommerce_preset(config: ExperimentConfig, item_item_weight: float) -> MultiTaskConfig:
    from tfrs_mtl.models import ecommerce_config

    history = config.history_length > 0
    preset = ecommerce_config(
        embedding_dim=config.embedding_dim,
        architecture=config.architecture or ECOMMERCE.architecture,
        weighting=config.weighting,
        use_interest=config.use_interest,
        use_engagement="engagement" in config.task_names,
        user_history=history,
        history_dropout=config.history_dropout,
        identity_embeddings=history and config.identity_embeddings and config.use_l2_norm,
        history_clusters=config.history_clusters,
        item_item_weight=item_item_weight,
        item_item_train_weight=config.item_item_train_weight if item_item_weight else None,
        category_input=bool(config.category_input),
    )
    # Without a history the user id is all the query tower reads: it is never dropped.
    return _with_id_dropout(config, preset, user_id=history)


def _with_id_dropout(
    config: ExperimentConfig, preset: MultiTaskConfig, *, user_id: bool = True
) -> MultiTaskConfig:
    """The user id reaches the query tower as unknown at `config.user_id_dropout` (unless
    `user_id` is False), the item id the candidate tower at `config.resolved_item_id_dropout`."""
    from tfrs_mtl.features import FeatureSpec

    rates = {preset.candidate_id_feature: config.resolved_item_id_dropout}
    if user_id:
        rates[preset.query_id_feature] = config.user_id_dropout
    features = FeatureSpec(
        features=tuple(
            feature.replace(dropout=rates[feature.name]) if feature.name in rates else feature
            for feature in preset.features.features
        )
    )
    return preset.replace(features=features)


def _movielens_frame(config: ExperimentConfig) -> pd.DataFrame:
    from tfrs_mtl.data import load_dataset

    return load_dataset(config.dataset, config.data_dir).ratings


def _ecommerce_frame(config: ExperimentConfig) -> pd.DataFrame:
    from tfrs_mtl.data import load_dataset

    if config.dataset == "synthetic-ecommerce":
        loaded = load_dataset(
            config.dataset,
            None,
            num_users=config.synthetic_num_users,
            num_items=config.synthetic_num_items,
            num_events=config.synthetic_num_events,
            seed=config.seed,
        )
    else:
        loaded = load_dataset(config.dataset, config.data_dir)
    return events_frame(config, getattr(loaded, "log", loaded))


def events_frame(config: ExperimentConfig, log: Any) -> pd.DataFrame:
    """An `EventLog` as the experiment's frame: one row per (user, item) pair with 0/1 labels
    per behaviour, plus `config.num_negatives_per_user` sampled unclicked impressions
    (ESMM's entire space)."""
    from tfrs_mtl.data.aggregate import aggregate_interactions, sample_negative_impressions

    pairs = aggregate_interactions(log)
    frame = sample_negative_impressions(pairs, config.num_negatives_per_user, seed=config.seed)
    for column in ("user_id", "item_id", "category", "brand"):
        if column in frame:
            frame[column] = np.asarray([str(value) for value in frame[column]], dtype=object)
    if "price" in frame:
        frame["price"] = frame["price"].to_numpy(dtype=np.float32)
    return frame


MOVIELENS = Recipe(
    name="movielens",
    tasks=("retrieval", "engagement", "rating", "genres"),
    # Over the preset's (retrieval 1, rating 1, genres 0.5): a lighter rating task leaves
    # retrieval as good as alone, a heavier genre task reaches its single-task quality.
    task_weights=MappingProxyType({"rating": 0.5, "genres": 1.0}),
    architecture="shared_bottom",
    item_column="movie_id",
    rating_column="user_rating",
    positive_column=None,
    display_column="movie_title",
    interest_column="movie_genres",
    reads_history=True,
    tfds_tutorial=True,
    preset=_movielens_preset,
    load_frame=_movielens_frame,
)
ECOMMERCE = Recipe(
    name="ecommerce",
    tasks=("retrieval", "engagement", "click", "cart", "purchase", "category", "price"),
    task_weights=MappingProxyType({}),
    architecture="mmoe",
    item_column="item_id",
    rating_column=None,
    positive_column="click",
    display_column="category",
    interest_column="category",
    # The clicked items: the built-in logs' item ids are integers, as histories need.
    reads_history=True,
    tfds_tutorial=False,
    preset=_ecommerce_preset,
    load_frame=_ecommerce_frame,
)
#: The datasets `tfrs_mtl.data.load_dataset` reads (their names cannot be registered).
BUILT_IN_DATASETS: frozenset[str] = frozenset(MOVIELENS_NAMES) | frozenset(ECOMMERCE_NAMES)
_REGISTERED: dict[str, Recipe] = {
    **{name: MOVIELENS for name in MOVIELENS_NAMES},
    **{name: ECOMMERCE for name in ECOMMERCE_NAMES},
}
#: The recipe of every dataset an experiment can name: those `tfrs_mtl.data.load_dataset`
#: reads and those registered with `register_dataset` (a read-only view).
RECIPES: Mapping[str, Recipe] = MappingProxyType(_REGISTERED)


def register_dataset(name: str, recipe: Recipe, *, replace: bool = False) -> None:
    """Makes `name` a dataset experiments can train: its frame and model follow `recipe`.

    Raises:
        ValueError: `name` is empty, a built-in dataset, or already registered (unless
            `replace`).
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"dataset name {name!r} must be a non-empty string")
    if name in BUILT_IN_DATASETS:
        raise ValueError(f"{name!r} is a built-in dataset; register yours under another name")
    if name in _REGISTERED and not replace:
        raise ValueError(f"{name!r} is already registered (replace=True replaces it)")
    _REGISTERED[name] = recipe


def event_table_recipe(
    path: str | os.PathLike[str],
    column_map: Mapping[str, str] | None = None,
    behavior_map: Mapping[str, str] | None = None,
    **read_options: Any,
) -> Recipe:
    """The e-commerce recipe over one CSV/Parquet event table read through a column map
    (`tfrs_mtl.data.read_event_table`: canonical column -> the file's column, source
    behaviour -> `click`/`cart`/`purchase`; `read_options` go to it too). Tasks whose labels
    the file lacks (no purchases, no categories) train without them."""

    def load_frame(config: ExperimentConfig) -> pd.DataFrame:
        from tfrs_mtl.data.event_csv import read_event_table

        log = read_event_table(path, column_map, behavior_map, **read_options)
        return events_frame(config, log)

    # Histories are looked up by integer item ids (`tfrs_mtl.features.user_history`): a
    # table read with `integer_ids=True` has them, any other trains without a history.
    return dataclasses.replace(
        ECOMMERCE,
        name=f"events:{os.fspath(path)}",
        load_frame=load_frame,
        reads_history=bool(read_options.get("integer_ids", False)),
    )


@dataclasses.dataclass(frozen=True)
class EventTableSource(Config):
    """A CSV/Parquet event table trained with the e-commerce recipe: the `events` block of
    an experiment config (`event_table_recipe` over these fields).

    Attributes:
        path: the file (Parquet when it ends in `.parquet` or `.pq`). The CLI resolves a
            relative path against the folder of the `--config` file.
        columns: canonical column (`user_id`, `item_id`, `behavior`, `timestamp`,
            `category`, `brand`, `price`) -> the file's column; None: the file already
            uses the canonical names.
        behaviors: the file's behaviour value -> `click`, `cart`, `favorite` or
            `purchase`; None: the file already uses them.
        default_behavior: every row's behaviour when the file has no behaviour column.
        delimiter: the field delimiter of a text file.
        timestamp_unit: `s` or `ms`.
        integer_ids: the ids are non-negative integers (checked): the query tower then
            also reads each user's clicked training items (`Recipe.reads_history`).
    """

    path: str
    columns: dict[str, str] | None = None
    behaviors: dict[str, str] | None = None
    default_behavior: str | None = None
    delimiter: str = ","
    timestamp_unit: Literal["s", "ms"] = "s"
    integer_ids: bool = False

    def validate(self) -> None:
        from tfrs_mtl.data.event_columns import CANONICAL_COLUMNS
        from tfrs_mtl.data.events import BEHAVIORS

        require(bool(self.path.strip()), "events.path must name a CSV or Parquet file")
        unknown = sorted(set(self.columns or {}) - set(CANONICAL_COLUMNS))
        require(
            not unknown,
            f"events.columns: unknown column(s) {unknown}; expected some of "
            f"{list(CANONICAL_COLUMNS)} (each mapped to the file's column)",
        )
        for name, behavior in {
            **(self.behaviors or {}),
            **({"default_behavior": self.default_behavior} if self.default_behavior else {}),
        }.items():
            require(
                behavior in BEHAVIORS,
                f"events.behaviors.{name}={behavior!r} is not one of {list(BEHAVIORS)}",
            )

    def recipe(self) -> Recipe:
        """The e-commerce recipe reading this table."""
        return event_table_recipe(
            self.path,
            self.columns,
            self.behaviors,
            default_behavior=self.default_behavior,
            delimiter=self.delimiter,
            timestamp_unit=self.timestamp_unit,
            integer_ids=self.integer_ids,
        )


def register_event_table(name: str, source: EventTableSource) -> None:
    """Registers (or re-registers) `name` as the event table `source`; a built-in name is
    refused with `ValueError`."""
    register_dataset(name, source.recipe(), replace=True)


def recipe_for(dataset: str) -> Recipe:
    """The recipe of `dataset`; raises `ValueError` naming the known datasets."""
    try:
        return RECIPES[dataset]
    except KeyError:
        raise ValueError(
            f"no recipe for dataset {dataset!r}; expected one of {list(RECIPES)}"
        ) from None
