"""Popularity and EASE on the TFRS tutorial split of real ml-100k match the published anchors.

Anchors, measured on the split `tf.random.set_seed(42); shuffle(100_000, seed=42,
reshuffle_each_iteration=False)` over the ratings in u.data order, 80,000 train / 20,000 test,
all 1,682 movies as candidates, training items masked for Recall/NDCG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tfrs_mtl.data import load_movielens, split
from tfrs_mtl.evaluation import encode_pairs, evaluate_full_ranking, rmse, top100_hit
from tfrs_mtl.evaluation.baselines import EaseBaseline, PopularityBaseline, select_ease
from tfrs_mtl.evaluation.baselines.ease import DEFAULT_L2_GRID

TOLERANCE = 0.01


@pytest.fixture(scope="module")
def tutorial_split(ml100k_dir: Path) -> dict[str, object]:
    data = load_movielens("movielens-100k", ml100k_dir)
    parts = split(data.ratings, "tutorial", order="frame")
    users = np.unique(data.ratings["user_id"].to_numpy())
    items = data.movies["movie_id"].to_numpy()
    train = encode_pairs(parts.train["user_id"], parts.train["movie_id"], users, items)
    test = encode_pairs(parts.test["user_id"], parts.test["movie_id"], users, items)
    return {
        "train": train,
        "test": test,
        "num_users": users.size,
        "num_items": items.size,
        "train_ratings": parts.train["user_rating"].to_numpy(),
        "test_ratings": parts.test["user_rating"].to_numpy(),
    }


def _ranking(model_score, split_data: dict) -> dict[str, float]:
    result = evaluate_full_ranking(
        model_score,
        split_data["train"],
        split_data["test"],
        num_users=split_data["num_users"],
        num_items=split_data["num_items"],
        ks=(10,),
    )
    # ml-100k has one rating per (user, movie): no test pair is also a training pair.
    assert result.num_test_pairs_in_train == 0
    assert result.num_users == 942
    return result.metrics


def test_split_sizes(tutorial_split: dict) -> None:
    assert tutorial_split["train"][0].size == 80_000
    assert tutorial_split["test"][0].size == 20_000
    assert tutorial_split["num_items"] == 1682


def test_popularity_anchors(tutorial_split: dict) -> None:
    model = PopularityBaseline.fit(
        tutorial_split["train"][1],
        num_items=tutorial_split["num_items"],
        ratings=tutorial_split["train_ratings"],
    )
    metrics = _ranking(model.score, tutorial_split)
    hit = top100_hit(
        model.score,
        tutorial_split["test"],
        num_items=tutorial_split["num_items"],
        tie_break="lower_index",
    )
    error = rmse(tutorial_split["test_ratings"], model.predict_rating(*tutorial_split["test"]))
    print(
        f"popularity recall@10={metrics['recall@10']:.4f} ndcg@10={metrics['ndcg@10']:.4f} "
        f"top100_hit={hit:.4f} rmse={error:.4f}"
    )
    assert metrics["recall@10"] == pytest.approx(0.217, abs=TOLERANCE)
    assert metrics["ndcg@10"] == pytest.approx(0.219, abs=TOLERANCE)
    assert hit == pytest.approx(0.297, abs=TOLERANCE)
    assert error == pytest.approx(1.130, abs=TOLERANCE)


def test_ease_anchors(tutorial_split: dict) -> None:
    model = EaseBaseline.fit(
        tutorial_split["train"],
        num_users=tutorial_split["num_users"],
        num_items=tutorial_split["num_items"],
        l2=500.0,
    )
    metrics = _ranking(model.score, tutorial_split)
    hit = top100_hit(model.score, tutorial_split["test"], num_items=tutorial_split["num_items"])
    print(
        f"ease recall@10={metrics['recall@10']:.4f} ndcg@10={metrics['ndcg@10']:.4f} "
        f"top100_hit={hit:.4f}"
    )
    assert metrics["recall@10"] == pytest.approx(0.429, abs=TOLERANCE)
    assert metrics["ndcg@10"] == pytest.approx(0.445, abs=TOLERANCE)
    assert hit == pytest.approx(0.314, abs=TOLERANCE)


def test_ease_lambda_climb_picks_the_full_grid_choice(tutorial_split: dict) -> None:
    """Validation NDCG@10 rises then falls along the λ grid on MovieLens-100K, so the climb
    from the data's own scale ends on the λ fitting every value picks, with fewer fits."""
    options = {
        "num_users": tutorial_split["num_users"],
        "num_items": tutorial_split["num_items"],
    }
    every = select_ease(tutorial_split["train"], **options, climb=False)
    climbed = select_ease(tutorial_split["train"], **options)
    assert len(every.validation_scores) == len(DEFAULT_L2_GRID)
    assert climbed.best_l2 == every.best_l2
    assert len(climbed.validation_scores) < len(DEFAULT_L2_GRID)
    for l2, value in climbed.validation_scores.items():
        assert value == pytest.approx(every.validation_scores[l2])
