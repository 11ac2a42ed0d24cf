"""A synthetic e-commerce event log with planted structure: the offline default dataset.

The generator plants what the models are meant to recover, and returns it as `truth`:

- **Latent factors.** Every category has a centroid in `embedding_dim` dimensions; an item's
  factor is its category's centroid plus its brand's offset plus noise, and a user's factor
  mixes the centroids of a favourite and a second category plus noise. The user-item affinity
  is the dot product of the two factors.
- **Catalogue.** Categories have unequal sizes; brands belong to categories; prices are
  log-normal by category, with a brand premium.
- **Views by affinity and popularity.** Each view picks a user by activity, a category from the
  user's softmax preference over category centroids, `num_candidates` items of that category by
  popularity (a closed-form, heavy-headed rank distribution), and among those the item that
  wins a Gumbel-max on affinity. Everything is vectorized, in blocks of views.
- **A view -> cart -> purchase funnel** (and favourites beside carts) whose probabilities are
  sigmoids of the affinity, the purchase one also falling with price (`FunnelParameters`).
  A cart follows its view within minutes and a purchase its cart within the hour.

Ids are the decimal indices into the `truth` arrays: user `"17"` is `truth.user_factors[17]`.

Example:
    >>> data = generate_synthetic_ecommerce(num_users=100, num_items=50, num_events=1_000)
    >>> data.log.events["behavior"].value_counts()["click"]
    1000
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tfrs_mtl.config.base import require
from tfrs_mtl.data.errors import ReadReport
from tfrs_mtl.data.events import BEHAVIORS, EventLog, make_events_frame
from tfrs_mtl.data.synthetic_truth import FunnelParameters, SyntheticTruth

__all__ = [
    "SYNTHETIC_NAME",
    "FunnelParameters",
    "SyntheticEcommerce",
    "SyntheticTruth",
    "generate_synthetic_ecommerce",
    "write_synthetic",
]

SYNTHETIC_NAME = "synthetic-ecommerce"
_START_TIME = 1_511_568_000  # 2017-11-25 00:00 UTC+8, where Taobao UserBehavior starts
_BLOCK_VIEWS = 1 << 18


@dataclasses.dataclass(frozen=True, eq=False)
class SyntheticEcommerce:
    """A synthetic event log and the structure it was drawn from."""

    log: EventLog
    truth: SyntheticTruth


@dataclasses.dataclass(frozen=True)
class _Catalogue:
    centroids: np.ndarray
    category_weight: np.ndarray
    item_category: np.ndarray
    item_brand: np.ndarray
    item_factors: np.ndarray
    item_price: np.ndarray


def _draw_catalogue(
    rng: np.random.Generator, num_items: int, num_categories: int, num_brands: int, dim: int
) -> _Catalogue:
    scale = 1.0 / np.sqrt(dim)  # centroids of norm about 1
    centroids = rng.normal(0.0, scale, (num_categories, dim))
    category_weight = rng.lognormal(0.0, 0.5, num_categories)
    category_weight /= category_weight.sum()
    item_category = rng.choice(num_categories, size=num_items, p=category_weight)
    # Brand b belongs to category b % num_categories; an item takes one of its category's
    # brands uniformly (categories without a brand of their own borrow brand c % num_brands).
    categories = np.arange(num_categories)
    brands_per_category = np.maximum((num_brands - categories + num_categories - 1), 0)
    brands_per_category //= num_categories
    count = brands_per_category[item_category]
    pick = np.floor(rng.random(num_items) * count).astype(np.int64)
    item_brand = np.where(
        count > 0, item_category + num_categories * pick, item_category % num_brands
    )
    brand_offsets = rng.normal(0.0, 0.5 * scale, (num_brands, dim))
    noise = rng.normal(0.0, 0.5 * scale, (num_items, dim))
    item_factors = centroids[item_category] + brand_offsets[item_brand] + noise
    category_log_price = rng.normal(np.log(30.0), 0.8, num_categories)
    brand_premium = rng.normal(0.0, 0.3, num_brands)
    log_price = (
        category_log_price[item_category]
        + brand_premium[item_brand]
        + rng.normal(0.0, 0.3, num_items)
    )
    price = np.maximum(np.round(np.exp(log_price), 2), 0.01)
    return _Catalogue(
        centroids.astype(np.float32),
        category_weight,
        item_category.astype(np.int32),
        item_brand.astype(np.int32),
        item_factors.astype(np.float32),
        price.astype(np.float32),
    )


def generate_synthetic_ecommerce(
    num_users: int = 10_000,
    num_items: int = 5_000,
    num_events: int = 200_000,
    *,
    num_categories: int = 50,
    num_brands: int = 200,
    embedding_dim: int = 16,
    seed: int = 0,
    num_candidates: int = 4,
    popularity_skew: float = 2.0,
    preference_sharpness: float = 4.0,
    duration_days: float = 9.0,
    funnel: FunnelParameters | None = None,
) -> SyntheticEcommerce:
    """Draws a synthetic e-commerce log (see the module docstring for what is planted).

    Args:
        num_users: users (some may never view anything).
        num_items: items in the catalogue.
        num_events: views (clicks); carts, favourites and purchases come on top.
        num_categories: item categories, of log-normal sizes.
        num_brands: brands, each belonging to one category.
        embedding_dim: dimension of the latent factors.
        seed: the only source of randomness (`numpy.random.default_rng(seed)`).
        num_candidates: items drawn by popularity per view, among which affinity picks one.
        popularity_skew: >= 1; within a category the item at popularity rank k (of n) is a
            candidate with probability ((k+1)/n)^(1/skew) - (k/n)^(1/skew); 1 is uniform.
        preference_sharpness: multiplies affinities in the category softmax and item pick.
        duration_days: length of the time window, starting 2017-11-25 like Taobao's.
        funnel: the funnel coefficients; None takes the defaults.

    Returns:
        the log (`events` sorted by time; `items` with `category`, `brand`, `price`) and truth.
    """
    funnel = funnel or FunnelParameters()
    for name, value in (
        ("num_users", num_users), ("num_items", num_items), ("num_events", num_events),
        ("num_categories", num_categories), ("num_brands", num_brands),
        ("embedding_dim", embedding_dim), ("num_candidates", num_candidates),
    ):  # fmt: skip
        require(int(value) == value and value >= 1, f"{name}={value!r} must be an integer >= 1")
    require(popularity_skew >= 1, f"popularity_skew={popularity_skew} must be >= 1")
    require(duration_days > 0, f"duration_days={duration_days} must be > 0")
    rng = np.random.default_rng(seed)
    catalogue = _draw_catalogue(rng, num_items, num_categories, num_brands, embedding_dim)
    centroids = catalogue.centroids.astype(np.float64)

    # Users: a favourite and a second category (drawn by category size), plus noise.
    favourite = rng.choice(num_categories, size=(num_users, 2), p=catalogue.category_weight)
    noise = rng.normal(0.0, 0.5 / np.sqrt(embedding_dim), (num_users, embedding_dim))
    user_factors = (centroids[favourite[:, 0]] + 0.5 * centroids[favourite[:, 1]] + noise).astype(
        np.float32
    )
    activity = rng.lognormal(0.0, 1.0, num_users)
    activity /= activity.sum()

    # Items of each category in popularity order (random within the category).
    items_by_category = np.lexsort((rng.random(num_items), catalogue.item_category))
    category_size = np.bincount(catalogue.item_category, minlength=num_categories)
    category_start = np.concatenate([[0], np.cumsum(category_size)[:-1]])
    rank = np.empty(num_items, np.int64)
    rank[items_by_category] = (
        np.arange(num_items) - category_start[catalogue.item_category[items_by_category]]
    )
    size = category_size[catalogue.item_category]
    popularity = ((rank + 1) / size) ** (1 / popularity_skew) - (rank / size) ** (
        1 / popularity_skew
    )

    # Views: a count per user by activity, split over categories by the user's preference
    # (two multinomial draws), then per view an item among popularity-drawn candidates by
    # affinity. Views come grouped by category, so each category's factors stay in cache.
    views_per_user = rng.multinomial(num_events, activity)
    stocked = np.flatnonzero(category_size > 0)
    logits = preference_sharpness * (user_factors @ catalogue.centroids[stocked].T)
    logits = logits.astype(np.float64) + np.log(catalogue.category_weight[stocked])
    preference = np.exp(logits - logits.max(axis=1, keepdims=True))
    preference /= preference.sum(axis=1, keepdims=True)
    views_per_pair = rng.multinomial(views_per_user, preference).T.ravel()
    view_category = np.repeat(np.repeat(stocked, num_users), views_per_pair)
    view_user = np.repeat(np.tile(np.arange(num_users), stocked.size), views_per_pair)
    # Factors in category order, so that the candidates of a view sit in one block of memory.
    factors_by_category = catalogue.item_factors[items_by_category]
    view_item = np.empty(num_events, np.int64)
    view_affinity = np.empty(num_events, np.float32)
    for begin in range(0, num_events, _BLOCK_VIEWS):
        block = slice(begin, min(begin + _BLOCK_VIEWS, num_events))
        categories, users = view_category[block], view_user[block]
        count = category_size[categories][:, None]
        draws = rng.random((categories.size, num_candidates), dtype=np.float32)
        candidate_rank = np.minimum((draws**popularity_skew * count).astype(np.int64), count - 1)
        positions = category_start[categories][:, None] + candidate_rank
        affinity = np.einsum("nkd,nd->nk", factors_by_category[positions], user_factors[users])
        # Gumbel-max as an exponential race: argmin E_k / exp(s * a_k) with E_k ~ Exp(1).
        race = rng.standard_exponential(affinity.shape, dtype=np.float32)
        choice = np.argmin(race * np.exp(-preference_sharpness * affinity), axis=1)
        rows = np.arange(categories.size)
        view_item[block] = items_by_category[positions[rows, choice]]
        view_affinity[block] = affinity[rows, choice]
    truth = SyntheticTruth(
        user_factors=user_factors,
        item_factors=catalogue.item_factors,
        category_centroids=catalogue.centroids,
        item_category=catalogue.item_category,
        item_brand=catalogue.item_brand,
        item_price=catalogue.item_price,
        item_popularity=popularity,
        user_activity=activity,
        funnel=funnel,
    )
    events = _funnel_events(rng, truth, view_user, view_item, view_affinity, duration_days)
    items = pd.DataFrame(
        {
            "item_id": pd.Series(pa.array(np.arange(num_items)).cast(pa.string()), dtype="str"),
            "category": pd.Series(pa.array(catalogue.item_category).cast(pa.string()), dtype="str"),
            "brand": pd.Series(pa.array(catalogue.item_brand).cast(pa.string()), dtype="str"),
            "price": catalogue.item_price,
        }
    )
    report = ReadReport(num_rows_read=len(events))
    log = EventLog(SYNTHETIC_NAME, events, items, f"synthetic(seed={seed})", report)
    return SyntheticEcommerce(log, truth)


def _funnel_events(
    rng: np.random.Generator,
    truth: SyntheticTruth,
    view_user: np.ndarray,
    view_item: np.ndarray,
    view_affinity: np.ndarray,
    duration_days: float,
) -> pd.DataFrame:
    """Draws carts, favourites and purchases for the views; returns every event by time."""
    num_views = view_user.size
    probabilities = truth.funnel.probabilities(
        view_affinity.astype(np.float64), truth.price_score(view_item)
    )
    draws = rng.random((num_views, 3))
    is_cart = draws[:, 0] < probabilities["cart"]
    is_favorite = draws[:, 1] < probabilities["favorite"]
    is_purchase = is_cart & (draws[:, 2] < probabilities["purchase_given_cart"])
    view_time = _START_TIME + rng.integers(0, int(duration_days * 86_400), num_views)

    def delay(mean_seconds: float, mask: np.ndarray) -> np.ndarray:
        return 1 + np.floor(rng.exponential(mean_seconds, int(mask.sum()))).astype(np.int64)

    cart_time = view_time[is_cart] + delay(300.0, is_cart)
    favorite_time = view_time[is_favorite] + delay(120.0, is_favorite)
    # Purchases are a subset of carts: index the cart times by the carted views.
    purchase_of_cart = is_purchase[is_cart]
    purchase_time = cart_time[purchase_of_cart] + delay(1_800.0, purchase_of_cart)
    users = np.concatenate(
        [view_user, view_user[is_cart], view_user[is_favorite], view_user[is_purchase]]
    )
    items = np.concatenate(
        [view_item, view_item[is_cart], view_item[is_favorite], view_item[is_purchase]]
    )
    counts = [num_views, int(is_cart.sum()), int(is_favorite.sum()), int(is_purchase.sum())]
    codes = np.repeat(np.arange(len(BEHAVIORS), dtype=np.int8), counts)
    times = np.concatenate([view_time, cart_time, favorite_time, purchase_time])
    order = np.argsort((times - _START_TIME).astype(np.int32))  # int32 sorts faster
    return make_events_frame(
        pa.array(users[order]).cast(pa.string()),
        pa.array(items[order]).cast(pa.string()),
        codes[order],
        timestamp=times[order],
    )


def write_synthetic(
    path: str | os.PathLike[str], *, include_item_attributes: bool = True, **kwargs: Any
) -> SyntheticEcommerce:
    """Generates a synthetic log and writes its events to CSV, or Parquet by suffix.

    The file has the canonical column names (`user_id,item_id,behavior,timestamp` and, with
    `include_item_attributes`, `category,brand,price`), so `read_event_table(path)` reads it
    back with no column map.

    Args:
        path: the output file; `.parquet`/`.pq` writes Parquet, anything else CSV.
        include_item_attributes: join the item attributes onto every event.
        **kwargs: arguments of `generate_synthetic_ecommerce`.

    Returns:
        what was generated.
    """
    data = generate_synthetic_ecommerce(**kwargs)
    events = data.log.events
    if include_item_attributes and data.log.items is not None:
        events = events.merge(data.log.items, on="item_id", how="left", sort=False)
    table = pa.Table.from_pandas(events, preserve_index=False)
    table = table.set_column(
        table.schema.get_field_index("behavior"),
        "behavior",
        table.column("behavior").cast(pa.string()),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        pq.write_table(table, path)
    else:
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="none"))
    return data
