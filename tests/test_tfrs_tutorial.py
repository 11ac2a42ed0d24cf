"""The TFRS multitask tutorial baseline: its views agree with its own Keras evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tfrs_mtl.evaluation import encode_pairs, rmse
from tfrs_mtl.evaluation.baselines.tfrs_tutorial import (
    EMBEDDING_DIM,
    evaluate_tfrs_tutorial,
    train_tfrs_tutorial,
)


def _toy_ratings(num_ratings: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "user_id": rng.choice([b"u1", b"u2", b"u3"], num_ratings),
        "movie_title": rng.choice([b"A", b"B", b"C", b"C"], num_ratings),
        "user_rating": rng.integers(1, 6, num_ratings).astype(np.float32),
    }


def test_toy_run_exposes_embeddings_and_ratings_consistent_with_evaluate() -> None:
    train, test = _toy_ratings(64, seed=0), _toy_ratings(16, seed=1)
    # "C" twice: duplicate titles stay separate candidates, as in ml-100k's movies dataset.
    candidates = np.array([b"A", b"B", b"C", b"C"])
    run = train_tfrs_tutorial(
        train,
        unique_user_ids=np.array([b"u1", b"u2", b"u3"]),
        candidate_titles=candidates,
        epochs=1,
        batch_size=16,
    )
    assert run.query_embeddings(np.array([b"u1", b"u2"])).shape == (2, EMBEDDING_DIM)
    assert run.candidate_embeddings(candidates).shape == (4, EMBEDDING_DIM)
    tutorial = run.tutorial_metrics(test)
    predicted = run.predict_rating(test["user_id"], test["movie_title"])
    assert predicted.shape == (16,)
    assert rmse(test["user_rating"], predicted) == pytest.approx(
        tutorial["root_mean_squared_error"], rel=1e-5
    )
    assert set(run.history) >= {"loss", "root_mean_squared_error"}
    # The same run through the library's evaluation, by user and catalogue indices.
    users, items = encode_pairs(
        test["user_id"], test["movie_title"], [b"u1", b"u2", b"u3"], [b"A", b"B", b"C"]
    )
    metrics, curve = evaluate_tfrs_tutorial(
        run,
        user_ids=np.array([b"u1", b"u2", b"u3"]),
        movie_titles=np.array([b"A", b"B", b"C"]),
        train_pairs=(np.array([0]), np.array([0])),
        test_pairs=(users, items),
        test_ratings=test["user_rating"],
        ks=(1,),
    )
    assert metrics["rating"]["rmse"] == pytest.approx(tutorial["root_mean_squared_error"], rel=1e-5)
    # 3 catalogue items: every test interaction is within the top 100.
    assert metrics["retrieval"]["top100_hit"] == pytest.approx(1.0)
    assert curve.shape == (100,)


@pytest.mark.slow
def test_tutorial_on_ml100k_matches_its_own_top100_and_the_anchors(ml100k_dir: Path) -> None:
    from tfrs_mtl.data import load_movielens, split

    data = load_movielens("movielens-100k", ml100k_dir)
    parts = split(data.ratings, "tutorial", order="frame")
    columns = ("movie_title", "user_id", "user_rating")
    run = train_tfrs_tutorial(
        {name: parts.train[name].to_numpy() for name in columns},
        unique_user_ids=data.ratings["user_id"].to_numpy(),
        candidate_titles=data.movies["movie_title"].to_numpy(),
    )
    tutorial = run.tutorial_metrics({name: parts.test[name].to_numpy() for name in columns})
    tutorial_hit = tutorial["factorized_top_k/top_100_categorical_accuracy"]
    users = np.unique(data.ratings["user_id"].to_numpy())
    items = data.movies["movie_id"].to_numpy()
    train = encode_pairs(parts.train["user_id"], parts.train["movie_id"], users, items)
    test = encode_pairs(parts.test["user_id"], parts.test["movie_id"], users, items)
    nested, _ = evaluate_tfrs_tutorial(
        run,
        user_ids=users,
        movie_titles=data.movies["movie_title"].to_numpy(),
        train_pairs=train,
        test_pairs=test,
        test_ratings=parts.test["user_rating"].to_numpy(),
        ks=(10,),
    )
    metrics, hit, error = (
        nested["retrieval"],
        nested["retrieval"]["top100_hit"],
        nested["rating"]["rmse"],
    )
    print(
        f"tfrs tutorial recall@10={metrics['recall@10']:.4f} ndcg@10={metrics['ndcg@10']:.4f} "
        f"top100_hit={hit:.4f} (FactorizedTopK {tutorial_hit:.4f}) "
        f"rmse={error:.4f}"
    )
    # Same embeddings, same definition: they differ only where float rounding of the
    # positive's own score moves it across rank 100 (about 1 in 2,000 interactions).
    assert hit == pytest.approx(tutorial_hit, abs=2e-3)
    assert error == pytest.approx(tutorial["root_mean_squared_error"], rel=1e-4)
    # Training is random; the anchors hold loosely (recall@10 0.140, NDCG@10 0.138, top-100 0.238).
    assert metrics["recall@10"] == pytest.approx(0.140, abs=0.03)
    assert metrics["ndcg@10"] == pytest.approx(0.138, abs=0.03)
    assert hit == pytest.approx(0.238, abs=0.03)
