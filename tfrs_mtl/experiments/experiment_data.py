"""The data of an experiment: one frame of labelled interactions, its split, and index maps.

MovieLens gives one row per rating. An e-commerce log becomes one row per (user, item) pair
with 0/1 labels per behaviour, plus sampled unclicked impressions (ESMM's entire space). Users
and items get dense indices over the whole frame, shared by the model's evaluation and the
baselines, so that every score matrix is `[num_users, num_items]` in the same order.

With `ExperimentConfig.user_history_length > 0` (MovieLens), every row also gets the
`user_history` query feature (`tfrs_mtl.features.user_history`): `split_experiment_data`
fits the users' histories on the split's training rows, `training_feature_arrays` gives a
training row its history without its own item (capped), `feature_arrays` gives any other row
(evaluation, the user table served) the user's full training history.

With the opt-in `interest` task, every row also gets its user's interest profile (the
`interest` task's label, e.g. `user_category_profile` `[num_rows, num_classes]`): the
distribution of the item classes (MovieLens genres, e-commerce categories) of the user's
retrieval positives among the split's TRAINING rows, refitted by `split_experiment_data` for
every split; no test row is read (`user_profiles` of the test rows is what evaluation
compares the prediction with).

With `ExperimentConfig.attribute_holdout > 0`, `split_experiment_data` also picks the items
whose attributes the split hides (`tfrs_mtl.experiments.attribute_holdout`): every array
built afterwards reads their attributes as unknown and carries the attribute tasks' 0/1 row
weight, and the training interest profiles leave their rows out.

With `ExperimentConfig.cold_items > 0`, it also picks the split's cold items
(`tfrs_mtl.experiments.cold_items`) and leaves every training row of theirs out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tfrs_mtl.config import ConfigError
from tfrs_mtl.data import split_from_config, to_feature_arrays
from tfrs_mtl.data.split_config import SplitConfig
from tfrs_mtl.experiments.attribute_holdout import (
    AttributeHoldout,
    ItemAttribute,
    fit_attribute_holdout,
    item_attributes,
)
from tfrs_mtl.experiments.cold_items import ColdItems, cold_rows, pick_cold_items
from tfrs_mtl.experiments.experiment_config import ExperimentConfig
from tfrs_mtl.features.user_history import HISTORY_FEATURE, UserHistories, integer_item_ids
from tfrs_mtl.tasks import compute_interest_profiles

#: Splits that order rows by their timestamp.
TIMED_SPLITS = ("temporal", "leave_last_n")
#: The fewest training and test rows a split may leave: fewer cannot train and score every
#: task (an AUC needs both labels among the test rows).
MIN_SPLIT_ROWS = 20


@dataclasses.dataclass(frozen=True, eq=False)
class ExperimentData:
    """Every labelled interaction of the experiment and its users and items.

    Attributes:
        frame: one row per interaction (feature and label columns).
        user_ids: `[num_users]` user ids as strings, in index order.
        item_ids: `[num_items]` item ids as strings, in index order.
        user_index: `[num_rows]` user index of each row.
        item_index: `[num_rows]` item index of each row.
        positive_key: the 0/1 column marking retrieval positives (e-commerce `click`), or
            None when every row is a positive (MovieLens ratings).
        rating_key: the explicit rating column, or None.
        display_key: the item column shown beside recommendations (`movie_title`, `category`).
        data_dir: where the dataset was read (for canonical folds).
        has_tfds_keys: the frame index holds TFDS example keys (MovieLens), which the
            `tutorial` split shuffles in TFDS order.
        item_key: the item id column (`movie_id`, `item_id`).
        history_length: items of a training row's `user_history` (0: no history feature).
        seed: seeds the histories' subsampling.
        histories: the users' training items of the last split (`fit_user_histories`).
        interest_key: the interest profile feature (None: no interest task).
        interest_classes: `[num_classes]` the profile's classes (genre ids, category names).
        interest_codes: `[num_rows]` or `[num_rows, max_len]` class index of each row's item
            (-1: none or padding).
        interest_profiles: `[num_users, num_classes]` the users' profiles over the training
            rows of the last split (`fit_interest_profiles`).
        attribute_holdout_share: `ExperimentConfig.attribute_holdout` (0: no holdout).
        item_attributes: the item attributes a holdout hides (`item_attributes`).
        attribute_holdout: the held-out items of the last split (None: no holdout).
        cold_items_share: `ExperimentConfig.cold_items` (0: no cold items).
        item_class_key: the item column whose classes the cold-item baseline reads (the
            recipe's interest column: genres, category).
        cold_items: the cold items of the last split (None: no cold items).
    """

    frame: pd.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    user_index: np.ndarray
    item_index: np.ndarray
    positive_key: str | None
    rating_key: str | None
    display_key: str | None
    data_dir: str | None
    has_tfds_keys: bool
    item_key: str = "movie_id"
    history_length: int = 0
    seed: int = 0
    histories: UserHistories | None = None
    interest_key: str | None = None
    interest_classes: np.ndarray | None = None
    interest_codes: np.ndarray | None = None
    interest_profiles: np.ndarray | None = None
    attribute_holdout_share: float = 0.0
    item_attributes: tuple[ItemAttribute, ...] = ()
    attribute_holdout: AttributeHoldout | None = None
    cold_items_share: float = 0.0
    item_class_key: str | None = None
    cold_items: ColdItems | None = None

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    def rows(self, part: pd.DataFrame) -> np.ndarray:
        """Positions in `frame` of the rows of `part` (a split of `frame`)."""
        return np.asarray(self.frame.index.get_indexer(part.index), dtype=np.int64)

    def positives(self, positions: np.ndarray) -> np.ndarray:
        """The retrieval positives among `positions` (all of them without `positive_key`)."""
        if self.positive_key is None:
            return positions
        return positions[self.frame[self.positive_key].to_numpy()[positions] > 0]

    def pairs(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(user_indices, item_indices)` of the retrieval positives among `positions`."""
        positions = self.positives(positions)
        return self.user_index[positions], self.item_index[positions]


def _as_strings(values: Any) -> np.ndarray:
    return np.asarray([str(value) for value in values], dtype=object)


def load_experiment_data(config: ExperimentConfig) -> ExperimentData:
    """Reads (or generates) the dataset of `config` and indexes its users and items."""
    recipe = config.recipe
    frame = recipe.load_frame(config)
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    if config.max_rows and config.max_rows < len(frame):
        keep = np.sort(
            np.random.default_rng(config.seed).choice(len(frame), config.max_rows, replace=False)
        )
        frame = frame.iloc[keep]
    attributes = item_attributes(config, frame.columns) if config.attribute_holdout else ()
    if config.attribute_holdout and not attributes:
        raise ConfigError(
            f"attribute_holdout={config.attribute_holdout}: {config.dataset} has no item "
            f"attribute columns to hide (columns: {sorted(map(str, frame.columns))})"
        )
    user_codes, users = pd.factorize(_as_strings(frame["user_id"]))
    item_codes, items = pd.factorize(_as_strings(frame[recipe.item_column]))
    return ExperimentData(
        **_interest_fields(config, frame),
        frame=frame,
        user_ids=np.asarray(users, dtype=object),
        item_ids=np.asarray(items, dtype=object),
        user_index=user_codes.astype(np.int64),
        item_index=item_codes.astype(np.int64),
        positive_key=recipe.positive_column,
        rating_key=recipe.rating_column,
        display_key=recipe.display_column if recipe.display_column in frame else None,
        data_dir=config.data_dir,
        has_tfds_keys=recipe.tfds_tutorial,
        item_key=recipe.item_column,
        history_length=config.history_length,
        seed=config.seed,
        attribute_holdout_share=config.attribute_holdout,
        item_attributes=attributes,
        cold_items_share=config.cold_items,
        item_class_key=recipe.interest_column if recipe.interest_column in frame else None,
    )


def _interest_fields(config: ExperimentConfig, frame: pd.DataFrame) -> dict[str, Any]:
    """The interest profile's key, classes and each row's class codes (empty: no interest)."""
    column = config.recipe.interest_column
    if not config.use_interest or column not in frame:
        return {}
    task = config.model_config().task("interest")
    values = to_feature_arrays(frame[[column]], pad_value=-1)[column]
    if task.num_classes:  # integer classes (MovieLens genre ids)
        classes = np.arange(task.num_classes)
        codes = np.where((values >= 0) & (values < task.num_classes), values, -1)
    else:  # every category of the catalogue, sorted: the same classes for every split
        classes, codes = np.unique(_as_strings(values), return_inverse=True)
    return {
        "interest_key": task.label_key,
        "interest_classes": classes,
        "interest_codes": codes.reshape(values.shape).astype(np.int64),
    }


def split_experiment_data(
    data: ExperimentData, split: SplitConfig
) -> tuple[np.ndarray, np.ndarray]:
    """`(train_positions, test_positions)` in `data.frame` of the configured split.

    When `data.history_length > 0`, also fits `data.histories` on the training rows (see
    `fit_user_histories`): the arrays built afterwards read this split's histories. With
    `data.attribute_holdout_share`, picks the split's held-out items first
    (`data.attribute_holdout`). With `data.cold_items_share`, picks the split's cold items
    (`data.cold_items`) and removes their training rows.
    """
    if split.method in TIMED_SPLITS and "timestamp" not in data.frame:
        raise ConfigError(
            f"split.method={split.method!r} orders each user's rows by time, but this data "
            "has no timestamps (RetailRocket's processed form has none); choose tutorial, "
            "random or kfold"
        )
    if split.method == "tutorial" and not data.has_tfds_keys:
        split = split.replace(order="frame")
    parts = split_from_config(data.frame, split, data.data_dir)
    train, test = data.rows(parts.train), data.rows(parts.test)
    if data.cold_items_share:
        cold = pick_cold_items(data, train, data.cold_items_share, data.seed)
        object.__setattr__(data, "cold_items", cold)
        train = train[~cold_rows(data, train, cold)]
    if min(len(train), len(test)) < MIN_SPLIT_ROWS:
        raise ConfigError(
            f"the {split.method} split of {len(data.frame):,} rows leaves {len(train):,} "
            f"training and {len(test):,} test rows; a run needs at least {MIN_SPLIT_ROWS} of "
            "each to train and evaluate every task (a larger --max-rows, or another split)"
        )
    if data.attribute_holdout_share:
        holdout = fit_attribute_holdout(
            data.frame,
            data.item_index,
            data.num_items,
            train,
            data.item_attributes,
            data.attribute_holdout_share,
            data.seed,
        )
        object.__setattr__(data, "attribute_holdout", holdout)
    fit_split_state(data, train)
    return train, test


#: `ExperimentConfig.blend_target` for "every interaction, gain 1" on any data.
INTERACTIONS = "interactions"


def fit_split_state(data: ExperimentData, train_positions: np.ndarray) -> None:
    """Refits what `data` derives from a split's training rows: the users' histories (with
    `history_length`) and interest profiles (with an interest task)."""
    if data.history_length:
        fit_user_histories(data, train_positions)
    if data.interest_key is not None:
        fit_interest_profiles(data, train_positions)


def seen_once_share(data: ExperimentData, positions: np.ndarray) -> float:
    """The share of the retrieval positives among `positions` whose item has no other
    positive among them (0 without positives): how much of the data an item id can learn
    from only one interaction."""
    items = data.item_index[data.positives(np.asarray(positions, np.int64))]
    if not items.size:
        return 0.0
    counts = np.bincount(items, minlength=data.num_items)
    return float(np.mean(counts[items] == 1))


def validation_carve_out(
    data: ExperimentData,
    train_positions: np.ndarray,
    split: SplitConfig,
    fraction: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """`(fit_positions, held_out_positions)`: the training rows split again, for choices
    made on held-out data (the served blend) without reading any test row.

    A split by time (`temporal`, `leave_last_n`) is repeated on the training rows, so the
    held-out rows are the latest as the test rows are; any other split holds out a seeded
    random `fraction` of the training rows.

    Raises:
        ValueError: `fraction` is not in (0, 1).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"validation fraction {fraction} is not in (0, 1)")
    train_positions = np.asarray(train_positions, np.int64)
    if split.method in ("temporal", "leave_last_n"):
        carve = split.replace(train_fraction=1 - fraction, cutoff_timestamp=None)
        parts = split_from_config(data.frame.iloc[train_positions], carve, data.data_dir)
        return data.rows(parts.train), data.rows(parts.test)
    held = np.random.default_rng(seed).random(len(train_positions)) < fraction
    return train_positions[~held], train_positions[held]


def resolved_blend_target(config: ExperimentConfig, data: ExperimentData) -> str | None:
    """The label whose held-out rows the served blend ranks best (`ExperimentConfig
    .blend_target`). When unset, by what the data holds: `purchase` where there are purchase
    labels, else the rating where there are ratings (graded: gain = the rating), else None
    (every interaction, gain 1; also what `INTERACTIONS` asks for).

    Raises:
        ValueError: `blend_target` names no column of the data.
    """
    target = config.blend_target
    if target == INTERACTIONS:
        return None
    if target is None:
        if "purchase" in data.frame:
            return "purchase"
        return data.rating_key
    if target not in data.frame:
        raise ValueError(
            f"blend_target={target!r} is not a label of {config.dataset} "
            f"(columns: {sorted(map(str, data.frame.columns))})"
        )
    return target


def target_gains(data: ExperimentData, positions: np.ndarray, target: str | None) -> np.ndarray:
    """`[len(data.positives(positions))]` the gain of each retrieval positive among
    `positions` for the blend target: its rating when the target is the rating column, 1 where
    its label is positive (0 elsewhere) for a behaviour, 1 for every interaction (None)."""
    positives = data.positives(positions)
    if target is None:
        return np.ones(len(positives))
    values = data.frame[target].to_numpy(np.float64)[positives]
    return values if target == data.rating_key else (values > 0).astype(np.float64)


def fit_user_histories(data: ExperimentData, train_positions: np.ndarray) -> None:
    """Sets `data.histories` to the users' items among `train_positions` (retrieval positives).

    Only these rows are read, so no item of any other row can appear in a history. The
    histories belong to one split: `split_experiment_data` refits them for every split.
    """
    keep = data.positives(train_positions)
    items = integer_item_ids(data.frame[data.item_key].to_numpy()[keep])
    times = None
    if "timestamp" in data.frame:
        stamps = data.frame["timestamp"].iloc[keep]
        # Rows without a time (sampled impressions) leave the histories unordered.
        times = None if stamps.isna().any() else stamps.to_numpy(np.int64)
    # The dataclass is frozen for its data; the histories follow the split in use.
    histories = UserHistories.fit(data.user_index[keep], items, data.num_users, times)
    object.__setattr__(data, "histories", histories)


def user_profiles(data: ExperimentData, positions: np.ndarray) -> np.ndarray:
    """`[num_users, num_classes]`: each user's class distribution over the retrieval positives
    among `positions` (a zero row for a user without any)."""
    assert data.interest_codes is not None and data.interest_classes is not None
    keep = data.positives(positions)
    num_classes = len(data.interest_classes)
    users, profiles = compute_interest_profiles(
        data.user_index[keep], data.interest_codes[keep], num_classes
    )
    full = np.zeros((data.num_users, num_classes), np.float32)
    full[users] = profiles
    return full


def fit_interest_profiles(data: ExperimentData, train_positions: np.ndarray) -> None:
    """Sets `data.interest_profiles` to `user_profiles` of the training rows (refitted by
    `split_experiment_data` for every split), so that no test row shapes a label; the rows
    of items whose attributes are held out (`data.attribute_holdout`) are left out."""
    if data.attribute_holdout is not None:
        hidden = data.attribute_holdout.hidden[data.item_index[train_positions]]
        train_positions = train_positions[~hidden]
    object.__setattr__(data, "interest_profiles", user_profiles(data, train_positions))


def feature_arrays(data: ExperimentData, positions: np.ndarray) -> dict[str, np.ndarray]:
    """The model's flat feature dict of the rows at `positions` (multi-valued padded -1).

    With fitted histories, `user_history` is each row's user's full training history (for
    evaluation rows and served users; training rows use `training_feature_arrays`).
    """
    arrays = _frame_arrays(data, positions)
    if data.histories is not None:
        arrays[HISTORY_FEATURE] = data.histories.full(data.user_index[positions])
    return arrays


def training_feature_arrays(data: ExperimentData, positions: np.ndarray) -> dict[str, np.ndarray]:
    """`feature_arrays` of training rows: each row's `user_history` leaves out the row's own
    item and keeps at most `data.history_length` items (a seeded random subset)."""
    arrays = _frame_arrays(data, positions)
    if data.histories is not None:
        own = integer_item_ids(data.frame[data.item_key].to_numpy()[positions])
        arrays[HISTORY_FEATURE] = data.histories.for_training(
            data.user_index[positions], own, data.history_length, data.seed
        )
    return arrays


def _frame_arrays(data: ExperimentData, positions: np.ndarray) -> dict[str, np.ndarray]:
    arrays = to_feature_arrays(data.frame.iloc[positions], pad_value=-1)
    arrays = {name: values for name, values in arrays.items() if _usable(values)}
    if data.interest_key is not None and data.interest_profiles is not None:
        arrays[data.interest_key] = data.interest_profiles[data.user_index[positions]]
    if data.attribute_holdout is not None:
        arrays = data.attribute_holdout.mask(arrays, data.item_index[positions])
    return arrays


def _usable(values: np.ndarray) -> bool:
    # Nullable timestamps of sampled impressions cannot feed the model; no feature reads them.
    return values.dtype != object or len(values) == 0 or isinstance(values[0], str)


def select_columns(arrays: Mapping[str, np.ndarray], names: Any) -> dict[str, np.ndarray]:
    return {name: arrays[name] for name in names if name in arrays}
