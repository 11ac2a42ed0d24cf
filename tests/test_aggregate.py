"""aggregate_interactions and sample_negative_impressions on hand-checkable logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.data.aggregate import aggregate_interactions, sample_negative_impressions
from tfrs_mtl.data.errors import ReadReport
from tfrs_mtl.data.events import BEHAVIORS, EventLog, make_events_frame

# u1: clicks a twice, buys a; carts b without a click; u2: favourites c.
USERS = ["u1", "u1", "u1", "u1", "u2"]
ITEMS = ["a", "a", "a", "b", "c"]
CODES = [0, 0, 3, 1, 2]  # click, click, purchase, cart, favorite
TIMES = [30, 10, 40, 5, 7]


def _log(with_times: bool = True) -> EventLog:
    events = make_events_frame(
        USERS, ITEMS, np.array(CODES), timestamp=np.array(TIMES) if with_times else None
    )
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "category": ["x", "y", "x"]})
    return EventLog("toy", events, items, "memory", ReadReport())


def test_one_row_per_pair_with_labels_counts_and_times() -> None:
    pairs = aggregate_interactions(_log())
    assert pairs["user_id"].tolist() == ["u1", "u1", "u2"]
    assert pairs["item_id"].tolist() == ["a", "b", "c"]
    assert pairs[list(BEHAVIORS)].to_numpy().tolist() == [
        [1, 0, 0, 1],
        [1, 1, 0, 0],
        [1, 0, 1, 0],
    ]
    assert pairs["click"].dtype == np.float32
    assert pairs["num_events"].tolist() == [3, 1, 1]
    assert pairs["first_timestamp"].tolist() == [10, 5, 7]
    assert pairs["last_timestamp"].tolist() == [40, 5, 7]
    assert pairs["category"].tolist() == ["x", "y", "x"]


def test_without_implicit_click_labels_are_what_was_logged() -> None:
    pairs = aggregate_interactions(_log(), implicit_click=False)
    assert pairs["click"].tolist() == [1.0, 0.0, 0.0]


def test_behaviour_subset_and_no_times() -> None:
    pairs = aggregate_interactions(_log(with_times=False), behaviors=("click", "purchase"))
    assert list(pairs.columns) == ["user_id", "item_id", "click", "purchase", "num_events",
                                   "category"]  # fmt: skip
    with pytest.raises(ValueError, match="unknown"):
        aggregate_interactions(_log(), behaviors=("view",))


def test_purchase_never_exceeds_click_under_the_funnel_convention() -> None:
    rng = np.random.default_rng(0)
    events = make_events_frame(
        rng.integers(0, 20, 500).astype(str),
        rng.integers(0, 30, 500).astype(str),
        rng.integers(0, 4, 500),
    )
    pairs = aggregate_interactions(EventLog("random", events, None, "memory", ReadReport()))
    assert (pairs["purchase"] <= pairs["click"]).all()
    assert (pairs["cart"] <= pairs["click"]).all()
    assert pairs["num_events"].sum() == 500


def _interactions(num_users: int = 30, num_items: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    events = make_events_frame(
        rng.integers(0, num_users, 300).astype(str),
        rng.integers(0, num_items, 300).astype(str),
        np.zeros(300, np.int64),
        timestamp=np.arange(300),
        attributes={"category": (rng.integers(0, num_items, 300) % 3).astype(str)},
    )
    return aggregate_interactions(EventLog("r", events, None, "memory", ReadReport()))


def test_negatives_are_unclicked_new_pairs() -> None:
    positives = _interactions()
    combined = sample_negative_impressions(positives, 3, seed=0)
    negatives = combined.iloc[len(positives) :]
    assert len(negatives) == 3 * positives["user_id"].nunique()
    assert negatives.groupby("user_id").size().eq(3).all()
    assert (negatives[["click", "cart", "favorite", "purchase"]] == 0).all().all()
    assert (negatives["num_events"] == 0).all()
    assert negatives["first_timestamp"].isna().all()
    assert combined["first_timestamp"].dtype == "Int64"
    assert not combined.duplicated(["user_id", "item_id"]).any()
    assert set(negatives["item_id"]) <= set(positives["item_id"])
    # Attributes are copied from the item's rows among the positives.
    category_of = positives.drop_duplicates("item_id").set_index("item_id")["category"]
    assert negatives["category"].tolist() == category_of[negatives["item_id"]].tolist()


def test_negatives_follow_popularity_and_the_seed() -> None:
    positives = _interactions()
    first = sample_negative_impressions(positives, 5, seed=3)
    assert first.equals(sample_negative_impressions(positives, 5, seed=3))
    assert not first.equals(sample_negative_impressions(positives, 5, seed=4))
    # An item nobody but one user touched is drawn far less often than a popular one.
    many = sample_negative_impressions(positives, 20, seed=0).iloc[len(positives) :]
    popularity = positives["item_id"].value_counts()
    drawn = many["item_id"].value_counts().reindex(popularity.index, fill_value=0)
    top, bottom = popularity.index[:5], popularity.index[-5:]
    assert drawn[top].mean() > drawn[bottom].mean()


def test_a_user_who_saw_everything_gets_no_negatives() -> None:
    positives = aggregate_interactions(
        EventLog("all", make_events_frame(["u", "u", "v"], ["a", "b", "a"], np.zeros(3)),
                 None, "memory", ReadReport())
    )  # fmt: skip
    combined = sample_negative_impressions(positives, 2, seed=0)
    negatives = combined.iloc[len(positives) :]
    assert negatives[["user_id", "item_id"]].values.tolist() == [["v", "b"]]
