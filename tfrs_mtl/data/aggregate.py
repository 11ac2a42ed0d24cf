"""Event logs to one labelled row per (user, item), and sampled unclicked impressions.

**The funnel convention.** With `implicit_click=True` (the default) any deeper behaviour (cart,
favorite, purchase) implies a click, because on an e-commerce site these happen on the item's
page, which the user reached by clicking. The labels then respect the cascade that ESMM models,
impression -> click -> purchase: `purchase <= click` on every row, so that
p(purchase) = p(click) * p(purchase | click) holds on the data (Ma et al., "Entire Space
Multi-Task Model", SIGIR 2018). A purchase does not imply a cart ("buy now" skips it).

**The impression space.** Logs only hold what users interacted with, so every aggregated row
has `click = 1`; ESMM's entire space also needs impressions that were not clicked.
`sample_negative_impressions` adds such rows, with every label 0, drawn from item popularity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tfrs_mtl.data.events import BEHAVIORS, ITEM_ATTRIBUTES, EventLog

TIMESTAMP_COLUMNS: tuple[str, ...] = ("first_timestamp", "last_timestamp")


def aggregate_interactions(
    log: EventLog, *, behaviors: Sequence[str] = BEHAVIORS, implicit_click: bool = True
) -> pd.DataFrame:
    """One row per (user, item) pair with a 0/1 label per behaviour.

    Args:
        log: the events.
        behaviors: the label columns to produce, a subset of `BEHAVIORS`.
        implicit_click: a cart, favorite or purchase also sets `click` (module docstring).

    Returns:
        a frame sorted by `user_id` then `item_id` with columns `user_id`, `item_id`, one
        float32 0/1 column per behaviour in `behaviors`, `num_events` (int64, every event of
        the pair), `first_timestamp` and `last_timestamp` (unix seconds; only when the log has
        times) and the item attributes the log knows (see `EventLog.item_attributes`).

    Example:
        >>> pairs = aggregate_interactions(load_taobao())  # doctest: +SKIP
        >>> bool((pairs["purchase"] <= pairs["click"]).all())  # doctest: +SKIP
        True
    """
    unknown = [name for name in behaviors if name not in BEHAVIORS]
    if unknown:
        raise ValueError(f"behaviors={list(behaviors)} has unknown {unknown}; expected {BEHAVIORS}")
    events = log.events
    user_codes, users = _sorted_codes(events["user_id"])
    item_codes, items = _sorted_codes(events["item_id"])
    num_items = max(len(items), 1)
    keys = user_codes * num_items + item_codes
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
    pair_keys = sorted_keys[starts]
    pair = np.empty(len(keys), np.int64)
    pair[order] = np.cumsum(np.concatenate([[False], sorted_keys[1:] != sorted_keys[:-1]]))
    num_pairs, width = len(pair_keys), len(BEHAVIORS)
    behavior = events["behavior"].cat.codes.to_numpy().astype(np.int64)
    counts = np.bincount(pair * width + behavior, minlength=num_pairs * width)
    observed = counts.reshape(num_pairs, width) > 0
    if implicit_click:
        observed[:, BEHAVIORS.index("click")] |= observed[:, 1:].any(axis=1)
    pair_items = pair_keys % num_items
    frame = pd.DataFrame(
        {
            "user_id": pd.Series(users.take(pa.array(pair_keys // num_items)), dtype="str"),
            "item_id": pd.Series(items.take(pa.array(pair_items)), dtype="str"),
        }
    )
    for name in behaviors:
        frame[name] = observed[:, BEHAVIORS.index(name)].astype(np.float32)
    frame["num_events"] = counts.reshape(num_pairs, width).sum(axis=1).astype(np.int64)
    if log.has_timestamps:
        stamps = events["timestamp"]
        if stamps.isna().any():
            span = stamps.groupby(pair).agg(["min", "max"])
            frame["first_timestamp"], frame["last_timestamp"] = span["min"], span["max"]
        else:
            in_order = stamps.to_numpy(np.int64)[order]
            frame["first_timestamp"] = np.minimum.reduceat(in_order, starts)
            frame["last_timestamp"] = np.maximum.reduceat(in_order, starts)
    if log.items is not None or any(name in events for name in ITEM_ATTRIBUTES):
        frame = pd.concat([frame, _item_rows(log.item_attributes(), items, pair_items)], axis=1)
    return frame


def _arrow(series: pd.Series) -> pa.Array:
    array = pa.array(series)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _sorted_codes(ids: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """`[n]` int64 codes of `ids` into their sorted distinct values, and those values."""
    encoded = pc.dictionary_encode(_arrow(ids))
    order = pc.array_sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return codes, encoded.dictionary.take(pa.array(order))


def _item_rows(attributes: pd.DataFrame, items: pa.Array, rows: np.ndarray) -> pd.DataFrame:
    """The attribute rows of `items[rows]`, all-missing for items the table lacks."""
    table = attributes.drop(columns="item_id").reset_index(drop=True)
    table = table.reindex(np.arange(len(table) + 1))  # a last, all-missing row
    value_set = _arrow(attributes["item_id"]).cast(items.type)
    position = pc.fill_null(pc.index_in(items, value_set=value_set), len(attributes))
    return table.iloc[position.to_numpy()[rows]].reset_index(drop=True)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    # Sort-based: numpy's hash-based `unique` is several times slower on large int64 arrays.
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """`[len(keys)]` bool: whether each key is in the sorted array `sorted_keys`."""
    if not sorted_keys.size:
        return np.zeros(keys.size, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return sorted_keys[at] == keys


def sample_negative_impressions(
    interactions: pd.DataFrame,
    num_negatives_per_user: int,
    seed: int = 0,
    *,
    max_rounds: int = 8,
) -> pd.DataFrame:
    """Adds unclicked impressions: per user, items drawn by popularity with every label 0.

    Items are drawn among those in `interactions`, with probability proportional to the number
    of users who interacted with them (popular items are the ones most often shown), and never
    an item the user interacted with. Draws are vectorized: all users at once, then rounds that
    redraw only collisions and duplicates. After `max_rounds` a user may keep fewer than
    `num_negatives_per_user` negatives (only when they interacted with most of the popularity
    mass), so the count is approximate for such users.

    Args:
        interactions: the output of `aggregate_interactions`.
        num_negatives_per_user: negatives to add per user.
        seed: seed of `numpy.random.default_rng`.
        max_rounds: redraw rounds for collisions.

    Returns:
        `interactions` followed by the negatives: labels 0.0, `num_events` 0, timestamps
        missing (`first_timestamp`/`last_timestamp` become nullable `Int64`), item attributes
        copied from the item's rows in `interactions`.
    """
    if num_negatives_per_user < 0:
        raise ValueError(f"num_negatives_per_user={num_negatives_per_user} must be >= 0")
    rng = np.random.default_rng(seed)
    user_codes, users = pd.factorize(interactions["user_id"])
    item_codes, items = pd.factorize(interactions["item_id"])
    num_items = len(items)
    positive_keys = _sorted_unique(user_codes.astype(np.int64) * num_items + item_codes)
    cdf = np.cumsum(np.bincount(item_codes, minlength=num_items), dtype=np.float64)
    cdf /= cdf[-1] if num_items else 1.0
    needed = np.full(len(users), num_negatives_per_user, dtype=np.int64)
    negative_keys = np.zeros(0, np.int64)  # sorted
    for _ in range(max_rounds):
        if not needed.any() or not num_items:
            break
        draw_users = np.repeat(np.arange(len(users)), needed)
        draw_items = np.searchsorted(cdf, rng.random(draw_users.size), side="right")
        keys = _sorted_unique(draw_users * num_items + np.minimum(draw_items, num_items - 1))
        fresh = keys[~_contains(positive_keys, keys) & ~_contains(negative_keys, keys)]
        negative_keys = np.sort(np.concatenate([negative_keys, fresh]))
        needed -= np.bincount(fresh // num_items, minlength=len(users))
    negative_items = negative_keys % max(num_items, 1)
    negatives = pd.DataFrame(
        {
            "user_id": users.take(negative_keys // max(num_items, 1)),
            "item_id": items.take(negative_items),
        }
    )
    for name in BEHAVIORS:
        if name in interactions:
            negatives[name] = np.zeros(len(negatives), np.float32)
    negatives["num_events"] = np.zeros(len(negatives), np.int64)
    known = {"user_id", "item_id", "num_events", *BEHAVIORS, *TIMESTAMP_COLUMNS}
    attribute_columns = [c for c in interactions.columns if c not in known]
    if attribute_columns:
        first_rows = pd.Series(np.arange(len(interactions))).groupby(item_codes).first()
        per_item = interactions[attribute_columns].iloc[first_rows.to_numpy()]
        joined = per_item.iloc[negative_items].reset_index(drop=True)
        negatives = pd.concat([negatives, joined], axis=1)
    positives = interactions.copy()
    for column in TIMESTAMP_COLUMNS:
        if column in positives:
            positives[column] = positives[column].astype("Int64")
            missing = np.ones(len(negatives), dtype=bool)
            negatives[column] = pd.arrays.IntegerArray(np.zeros(len(negatives), np.int64), missing)
    return pd.concat([positives, negatives[list(positives.columns)]], ignore_index=True)
