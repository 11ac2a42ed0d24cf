"""The Recommender over the real `MultiTaskModel` serving views (integration)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl import models
from tfrs_mtl.serving import IndexConfig, Recommender, ServableModel, load


def movielens_like(num_examples: int = 120, seed: int = 0) -> dict[str, np.ndarray]:
    """MovieLens-shaped rows (TFDS feature names): 10 users, 30 movies."""
    rng = np.random.default_rng(seed)
    movies = rng.integers(1, 31, num_examples)
    genres = np.full((num_examples, 2), -1, np.int64)
    genres[:, 0] = movies % 5
    return {
        "user_id": rng.integers(1, 11, num_examples).astype(str).astype(object),
        "bucketized_user_age": rng.choice([18.0, 25.0, 35.0], num_examples).astype(np.float32),
        "user_gender": rng.random(num_examples) < 0.5,
        "user_occupation_label": rng.integers(0, 22, num_examples),
        "timestamp": rng.integers(880_000_000, 890_000_000, num_examples),
        "movie_id": movies.astype(str).astype(object),
        "movie_title": np.array([f"Movie {m}" for m in movies], dtype=object),
        "movie_genres": genres,
        "user_rating": rng.integers(1, 6, num_examples).astype(np.float32),
    }


@pytest.fixture(scope="module")
def model():
    tf.keras.utils.set_random_seed(0)
    return models.MultiTaskModel.from_data(
        models.movielens_config(embedding_dim=4), movielens_like()
    )


@pytest.fixture(scope="module")
def catalogue(model) -> dict[str, np.ndarray]:
    arrays = movielens_like()
    _, first = np.unique(arrays["movie_id"], return_index=True)
    return {name: arrays[name][first] for name in model.candidate_feature_names}


def queries(model) -> dict[str, np.ndarray]:
    arrays = movielens_like(3, seed=1)
    arrays["user_id"] = np.array(["1", "2", "a user never seen"], dtype=object)
    return {name: arrays[name] for name in model.query_feature_names}


def test_multitask_model_is_servable(model) -> None:
    assert isinstance(model, ServableModel)


def test_recommendations_follow_the_model_views(model, catalogue) -> None:
    recommender = Recommender(model, catalogue, IndexConfig(kind="brute_force"), progress=False)
    num_items = len(catalogue["movie_id"])
    # Retrieval-only blend over every item: exactly the towers' dot-product top-k.
    results = recommender.recommend(
        queries(model), k=5, num_candidates=num_items, blend={"retrieval": 1.0}
    )
    scores = recommender.encode_queries(queries(model)) @ recommender.candidate_embeddings.T
    expected = recommender.catalogue_ids[np.argsort(-scores, axis=1)[:, :5]].astype(str)
    np.testing.assert_array_equal(results.item_ids, expected)
    assert results.item_ids.shape == (3, 5)  # the unknown user goes through the OOV row
    # Stage-2 scores are the model ranker's on each (query, item) pair.
    rows = [int(np.flatnonzero(catalogue["movie_id"] == item)[0]) for item in results.item_ids[0]]
    pairs = {name: np.repeat(values[:1], 5, axis=0) for name, values in queries(model).items()}
    pairs.update({name: values[rows] for name, values in catalogue.items()})
    direct = model.ranker({name: tf.constant(value) for name, value in pairs.items()})
    np.testing.assert_allclose(results.scores["rating"][0], direct["rating"].numpy(), rtol=1e-5)


@pytest.mark.slow
def test_export_of_a_multitask_model(model, catalogue, tmp_path: Path) -> None:
    recommender = Recommender(model, catalogue, IndexConfig(), progress=False)
    loaded = load(recommender.save(tmp_path / "export"))
    seen = recommender.recommend(queries(model), k=1).item_ids
    request = {"k": 4, "num_candidates": 10, "exclude": seen.tolist()}
    np.testing.assert_array_equal(
        loaded.recommend(queries(model), **request).item_ids,
        recommender.recommend(queries(model), **request).item_ids,
    )
    assert loaded.manifest["fingerprints"]["vocabularies"] == model.vocabularies.fingerprint()
    assert loaded.manifest["model_config"] == model.config.to_dict()
