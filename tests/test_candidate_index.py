"""Candidate index: ScaNN searching exhaustively equals BruteForce; fallback; edge cases."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.serving.candidate_index import (
    BruteForceIndex,
    ScannIndex,
    ScannUnavailableWarning,
    build_index,
    index_fingerprint,
)
from tfrs_mtl.serving.index_config import IndexConfig


@pytest.fixture(scope="module")
def embeddings() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(20, 16)).astype(np.float32)


def test_exhaustive_scann_returns_the_brute_force_ids(embeddings, queries) -> None:
    # Every leaf searched and every item rescored exactly: ScaNN must be exact.
    exhaustive = IndexConfig(
        min_items_to_partition=1,
        num_leaves=10,
        num_leaves_to_search=10,
        num_reordering_candidates=500,
    )
    scann = build_index(embeddings, exhaustive)
    assert isinstance(scann, ScannIndex) and scann.config.num_leaves == 10
    brute = build_index(embeddings, IndexConfig(kind="brute_force"))
    scann_scores, scann_rows = scann.search(queries, 10)
    brute_scores, brute_rows = brute.search(queries, 10)
    np.testing.assert_array_equal(scann_rows.numpy(), brute_rows.numpy())
    np.testing.assert_allclose(scann_scores.numpy(), brute_scores.numpy(), rtol=1e-5)


def test_brute_force_matches_numpy(embeddings, queries) -> None:
    _, rows = build_index(embeddings, IndexConfig(kind="brute_force")).search(queries, 3)
    expected = np.argsort(-(queries @ embeddings.T), axis=1)[:, :3]
    np.testing.assert_array_equal(rows.numpy(), expected)


def test_squared_l2_scores_are_negative_distances(embeddings, queries) -> None:
    config = IndexConfig(
        min_items_to_partition=1,
        distance_measure="squared_l2",
        num_leaves=10,
        num_leaves_to_search=10,
        num_reordering_candidates=500,
    )
    distances = ((queries[:, None, :] - embeddings[None, :, :]) ** 2).sum(-1)
    expected_rows = np.argsort(distances, axis=1)[:, :5]
    for kind in ("brute_force", "scann"):
        scores, rows = build_index(embeddings, config.replace(kind=kind)).search(queries, 5)
        np.testing.assert_array_equal(rows.numpy(), expected_rows)
        np.testing.assert_allclose(
            scores.numpy(), -np.take_along_axis(distances, expected_rows, 1), rtol=1e-4
        )


def test_empty_query_batch(embeddings) -> None:
    for kind in ("scann", "brute_force"):
        scores, rows = build_index(embeddings, IndexConfig(kind=kind)).search(
            np.zeros((0, 16), np.float32), 7
        )
        assert scores.shape == (0, 7) and rows.shape == (0, 7)


def test_slots_scann_cannot_fill_are_marked(embeddings, queries) -> None:
    # One leaf of ten searched holds far fewer than 400 items: the rest are empty slots.
    index = build_index(
        embeddings, IndexConfig(min_items_to_partition=1, num_leaves=10, num_leaves_to_search=1)
    )
    scores, rows = index.search(queries, 400)
    assert rows.shape == (20, 400)
    empty = rows.numpy() == -1
    assert empty.any()
    assert np.isneginf(scores.numpy()[empty]).all()
    assert not np.isinf(scores.numpy()[~empty]).any()


def test_more_neighbours_than_the_reordering_depth(embeddings, queries) -> None:
    index = build_index(
        embeddings,
        IndexConfig(
            min_items_to_partition=1,
            num_leaves=10,
            num_leaves_to_search=10,
            num_reordering_candidates=5,
        ),
    )
    _, rows = index.search(queries, 50)
    assert (rows.numpy() >= 0).all()  # not cut to the 5 reordered


def test_tiny_catalogue_builds_without_hashing() -> None:
    embeddings = np.eye(5, 4, dtype=np.float32)
    index = build_index(embeddings, IndexConfig())
    _, rows = index.search(np.array([[0, 0, 1, 0]], np.float32), 1)
    assert rows.numpy().tolist() == [[2]]


def test_falls_back_to_brute_force_without_scann(monkeypatch, embeddings, queries) -> None:
    monkeypatch.setitem(sys.modules, "scann.scann_ops.py.scann_ops", None)
    with pytest.warns(ScannUnavailableWarning, match="scann==1.4.2"):
        index = build_index(embeddings, IndexConfig())
    assert isinstance(index, BruteForceIndex) and index.config.kind == "brute_force"
    assert index.search(queries, 3)[1].shape == (20, 3)


def test_dimensions_per_block_larger_than_embedding() -> None:
    with pytest.raises(
        ValueError, match="dimensions_per_block=8 exceeds the embedding dimension 4"
    ):
        build_index(np.ones((100, 4), np.float32), IndexConfig(dimensions_per_block=8))


def test_fingerprint_changes_with_embeddings_and_ids(embeddings) -> None:
    ids = np.array([f"m{i}" for i in range(500)], dtype=object)
    base = index_fingerprint(embeddings, ids)
    assert base == index_fingerprint(embeddings.copy(), ids.copy())
    assert base != index_fingerprint(embeddings * 2, ids)
    assert base != index_fingerprint(embeddings, ids[::-1])


def test_traced_search_equals_eager_search(embeddings, queries) -> None:
    # Eager calls take a one-op fast path; traced calls (the export) the graph path.
    index = build_index(
        embeddings, IndexConfig(min_items_to_partition=1, num_leaves=10, num_leaves_to_search=1)
    )
    traced = tf.function(lambda batch, k: index.search(batch, k))
    for k in (5, 400):  # 400: more than one leaf holds, so both paths pad
        eager_scores, eager_rows = index.search(queries, k)
        traced_scores, traced_rows = traced(tf.constant(queries), tf.constant(k))
        np.testing.assert_array_equal(eager_rows.numpy(), traced_rows.numpy())
        np.testing.assert_array_equal(eager_scores.numpy(), traced_scores.numpy())


def test_spherical_leaves_find_more_dot_product_neighbours() -> None:
    # Unnormalised clustered items: generic k-means files items by L2 distance while queries
    # pick leaves by dot product; spherical leaves agree with the query (0.86 vs 0.80 here).
    centres = np.random.default_rng(0).normal(size=(200, 16))
    rng = np.random.default_rng(1)
    items, queries = (
        (centres[rng.integers(200, size=n)] + 0.5 * rng.normal(size=(n, 16))).astype(np.float32)
        for n in (5000, 200)
    )
    exact = build_index(items, IndexConfig(kind="brute_force")).search(queries, 10)[1].numpy()
    recalls = {}
    for spherical in (False, True):
        config = IndexConfig(
            min_items_to_partition=1,
            num_leaves=50,
            num_leaves_to_search=2,
            use_spherical_partitioning=spherical,
        )
        rows = build_index(items, config).search(queries, 10)[1].numpy()
        hits = [len(set(a) & set(e)) for a, e in zip(rows, exact, strict=True)]
        recalls[spherical] = np.mean(hits) / 10
    assert recalls[True] > recalls[False] + 0.03
