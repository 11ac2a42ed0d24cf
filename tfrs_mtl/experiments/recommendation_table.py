"""`recommend_users`: recommendations for users by id, as one table (CLI and quickstart)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tfrs_mtl.experiments.serving_data import ServingData


def recommend_users(
    recommender: Any,
    serving_data: ServingData,
    user_ids: Sequence[str],
    *,
    k: int = 10,
    num_candidates: int = 200,
    exclude_seen: bool = True,
    blend: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Top-`k` items per user with every score.

    Args:
        recommender: a `tfrs_mtl.serving.Recommender` or a loaded export.
        serving_data: known users' query features and training items.
        user_ids: the users, known or not (unknown ids go through the OOV path).
        k: items per user.
        num_candidates: items retrieved before re-ranking.
        exclude_seen: leave out each known user's training items.
        blend: the final score's weights (None: the recommender's default blend).

    Returns:
        One row per (user, rank): `user_id`, `known_user`, `rank`, `item_id`, `item`
        (display label), `retrieval_score`, `<task>_score` per ranking task, `final_score`.
    """
    ids = [str(user) for user in user_ids]
    results = recommender.recommend(
        serving_data.query_features(ids),
        k=k,
        num_candidates=max(num_candidates, k),
        exclude=serving_data.seen(ids) if exclude_seen else None,
        blend=blend,
    )
    frame = results.to_frame()
    frame.insert(0, "user_id", [ids[query] for query in frame["query"]])
    frame.insert(1, "known_user", [serving_data.knows(ids[q]) for q in frame["query"]])
    frame.insert(4, "item", [serving_data.label(item) for item in frame["item_id"]])
    return frame.drop(columns=["query"])
