"""The synthetic generator: determinism, the funnel, and the structure it plants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.config.base import ConfigError
from tfrs_mtl.data.event_csv import read_event_table
from tfrs_mtl.data.synthetic import (
    FunnelParameters,
    SyntheticEcommerce,
    generate_synthetic_ecommerce,
    write_synthetic,
)

TOY = {"num_users": 400, "num_items": 300, "num_events": 20_000, "num_categories": 8,
       "num_brands": 20, "embedding_dim": 8}  # fmt: skip


@pytest.fixture(scope="module")
def data() -> SyntheticEcommerce:
    return generate_synthetic_ecommerce(**TOY, seed=7)  # type: ignore[arg-type]


def _indices(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return events["user_id"].astype(int).to_numpy(), events["item_id"].astype(int).to_numpy()


def test_same_seed_same_data_other_seed_other_data(data: SyntheticEcommerce) -> None:
    again = generate_synthetic_ecommerce(**TOY, seed=7)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(again.log.events, data.log.events)
    pd.testing.assert_frame_equal(again.log.items, data.log.items)
    np.testing.assert_array_equal(again.truth.item_factors, data.truth.item_factors)
    other = generate_synthetic_ecommerce(**TOY, seed=8)  # type: ignore[arg-type]
    assert not other.log.events["item_id"].equals(data.log.events["item_id"])
    assert not np.array_equal(other.truth.user_factors, data.truth.user_factors)


def test_schema_and_sizes(data: SyntheticEcommerce) -> None:
    events, items = data.log.events, data.log.items
    assert items is not None
    assert list(items.columns) == ["item_id", "category", "brand", "price"]
    assert len(items) == 300
    assert (events["behavior"] == "click").sum() == 20_000
    assert events["timestamp"].is_monotonic_increasing
    assert data.truth.user_factors.shape == (400, 8)
    assert data.truth.item_factors.shape == (300, 8)
    assert (items["price"] > 0).all()


def test_funnel_order_within_every_pair(data: SyntheticEcommerce) -> None:
    events = data.log.events
    counts = events.groupby(["user_id", "item_id", "behavior"], observed=False).size().unstack()
    assert (counts["purchase"] <= counts["cart"]).all()
    assert (counts["cart"] <= counts["click"]).all()
    assert (counts["favorite"] <= counts["click"]).all()
    first = events.groupby(["user_id", "item_id", "behavior"], observed=True)["timestamp"].min()
    first = first.unstack().dropna(subset=["purchase"])
    assert (first["purchase"] > first["cart"]).all()
    assert (first["cart"] > first["click"]).all()


def test_popular_items_take_a_larger_share_of_their_category(data: SyntheticEcommerce) -> None:
    truth = data.truth
    views = data.log.events[data.log.events["behavior"] == "click"]
    _, items = _indices(views)
    views_per_item = np.bincount(items, minlength=len(truth.item_popularity))
    views_per_category = np.bincount(truth.item_category, weights=views_per_item)
    share = views_per_item / views_per_category[truth.item_category]
    assert np.corrcoef(truth.item_popularity, share)[0, 1] > 0.7


def test_views_prefer_items_with_high_affinity(data: SyntheticEcommerce) -> None:
    views = data.log.events[data.log.events["behavior"] == "click"]
    users, items = _indices(views)
    rng = np.random.default_rng(0)
    random_affinity = data.truth.affinity(
        rng.integers(0, 400, 20_000), rng.integers(0, 300, 20_000)
    )
    assert data.truth.affinity(users, items).mean() > random_affinity.mean() + 0.3


def test_funnel_rates_match_the_planted_probabilities(data: SyntheticEcommerce) -> None:
    events = data.log.events
    views = events[events["behavior"] == "click"]
    probabilities = data.truth.funnel_probabilities(*_indices(views))
    for behavior, name in (("cart", "cart"), ("favorite", "favorite"), ("purchase", "purchase")):
        p = probabilities[name]
        observed = int((events["behavior"] == behavior).sum())
        assert abs(observed - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum()), behavior


def test_purchase_rate_falls_with_price(data: SyntheticEcommerce) -> None:
    events = data.log.events
    _, items = _indices(events)
    cheap = data.truth.item_price[items] <= np.median(data.truth.item_price)
    views = (events["behavior"] == "click").to_numpy()
    purchases = (events["behavior"] == "purchase").to_numpy()
    assert (
        purchases[cheap].sum() / views[cheap].sum() > purchases[~cheap].sum() / views[~cheap].sum()
    )


def test_price_alone_moves_purchases(data: SyntheticEcommerce) -> None:
    # Same seed, same views, carts and uniform draws: only the price term differs, so dear
    # items (price score > 0) lose purchases and cheap ones gain them, pair by pair.
    free = generate_synthetic_ecommerce(
        **TOY, seed=7, funnel=FunnelParameters(purchase_price_weight=0.0)
    )  # type: ignore[arg-type]

    def purchases(log_events: pd.DataFrame, dear: bool) -> pd.Series:
        bought = log_events[log_events["behavior"] == "purchase"]
        _, items = _indices(bought)
        keep = (data.truth.price_score(items) > 0) == dear
        return bought[keep].groupby(["user_id", "item_id"]).size()

    with_price, without = purchases(data.log.events, True), purchases(free.log.events, True)
    assert with_price.sum() < without.sum()
    assert (with_price <= without.reindex(with_price.index, fill_value=0)).all()
    cheap_with, cheap_without = purchases(data.log.events, False), purchases(free.log.events, False)
    assert cheap_with.sum() > cheap_without.sum()


def test_categories_share_a_centroid_and_a_price_level(data: SyntheticEcommerce) -> None:
    truth = data.truth
    distances = np.linalg.norm(
        truth.item_factors[:, None, :] - truth.category_centroids[None, :, :], axis=2
    )
    assert (distances.argmin(axis=1) == truth.item_category).mean() > 0.8
    shares = pd.Series(truth.item_popularity).groupby(truth.item_category).sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0)
    log_price = pd.Series(np.log(truth.item_price))
    within = log_price.groupby(truth.item_category).var().mean()
    assert within < 0.5 * log_price.var()


def test_invalid_arguments_name_the_field() -> None:
    with pytest.raises(ConfigError, match="num_users=0 must be an integer >= 1"):
        generate_synthetic_ecommerce(num_users=0)
    with pytest.raises(ConfigError, match="purchase_price_weight=-1"):
        FunnelParameters(purchase_price_weight=-1.0)


@pytest.mark.parametrize("name", ["events.csv", "events.parquet"])
def test_write_synthetic_reads_back(tmp_path: Path, name: str) -> None:
    written = write_synthetic(tmp_path / name, num_users=20, num_items=15, num_events=200)
    log = read_event_table(tmp_path / name, integer_ids=True)
    expected = written.log.events.merge(written.log.items, on="item_id", how="left")
    pd.testing.assert_frame_equal(log.events, expected, check_dtype=False)
    assert log.events["price"].dtype == np.float32
