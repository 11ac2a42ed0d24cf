"""ScannIndex's eager fast path (ScaNN's pybind searcher loaded from the index's own state)
returns exactly what the TF-op path returns: ids and scores, one query and small batches, every
build variant, k and query-time overrides; other inputs and traced calls use the TF ops."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.serving import scann_pybind_search
from tfrs_mtl.serving.candidate_index import ScannIndex, build_index
from tfrs_mtl.serving.index_config import IndexConfig

pytest.importorskip("scann")

NUM_ITEMS, DIM = 600, 16

BUILDS = {
    "tree+ah+reorder": IndexConfig(min_items_to_partition=1, num_leaves=12, num_leaves_to_search=3),
    "spherical": IndexConfig(
        min_items_to_partition=1,
        num_leaves=12,
        num_leaves_to_search=3,
        use_spherical_partitioning=True,
    ),
    "no reordering": IndexConfig(
        min_items_to_partition=1,
        num_leaves=12,
        num_leaves_to_search=3,
        num_reordering_candidates=None,
    ),
    "no tree": IndexConfig(num_leaves=1, num_leaves_to_search=1),
    "squared_l2": IndexConfig(
        min_items_to_partition=1,
        num_leaves=12,
        num_leaves_to_search=3,
        distance_measure="squared_l2",
    ),
}


@pytest.fixture(scope="module")
def embeddings() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(NUM_ITEMS, DIM)).astype(np.float32)


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(9, DIM)).astype(np.float32)


@pytest.fixture(scope="module", params=list(BUILDS))
def index(request, embeddings) -> ScannIndex:
    built = build_index(embeddings, BUILDS[request.param])
    assert isinstance(built, ScannIndex) and built.has_fast_path
    return built


def _both(index: ScannIndex, queries: np.ndarray, *args: object) -> None:
    fast_scores, fast_rows = index.search(queries, *args)
    op_scores, op_rows = index.search(queries, *args, fast_path=False)
    array_scores, array_rows = index.search_arrays(queries, *args)
    assert fast_rows.dtype == op_rows.dtype == tf.int32 and array_rows.dtype == np.int32
    assert fast_scores.dtype == op_scores.dtype == tf.float32 and array_scores.dtype == np.float32
    np.testing.assert_array_equal(fast_rows.numpy(), op_rows.numpy())
    np.testing.assert_array_equal(fast_scores.numpy(), op_scores.numpy())
    np.testing.assert_array_equal(array_rows, op_rows.numpy())
    np.testing.assert_array_equal(array_scores, op_scores.numpy())


@pytest.mark.parametrize("batch", [1, 2, 9])
@pytest.mark.parametrize("k", [1, 10, 150, NUM_ITEMS])  # 150, 600: more than 3 leaves hold
def test_fast_path_equals_the_tf_op(index, queries, batch, k) -> None:
    _both(index, queries[:batch], k)


@pytest.mark.parametrize("leaves, depth", [(1, 20), (12, 40), (None, 5), (2, None)])
def test_fast_path_equals_the_tf_op_with_query_time_overrides(index, queries, leaves, depth):
    for batch in (1, 9):
        _both(index, queries[:batch], 10, leaves, depth)


def test_fast_path_equals_the_traced_graph_path(index, queries) -> None:
    traced = tf.function(lambda batch, k: index.search(batch, k))
    for k in (5, 150):
        fast_scores, fast_rows = index.search(queries, k)
        graph_scores, graph_rows = traced(tf.constant(queries), tf.constant(k))
        np.testing.assert_array_equal(fast_rows.numpy(), graph_rows.numpy())
        np.testing.assert_array_equal(fast_scores.numpy(), graph_scores.numpy())


def test_tiny_catalogue_without_hashing_takes_the_fast_path() -> None:
    embeddings = np.random.default_rng(2).normal(size=(12, 4)).astype(np.float32)
    index = build_index(embeddings, IndexConfig())
    assert isinstance(index, ScannIndex) and index.has_fast_path
    _both(index, embeddings[:3], 5)


def test_query_forms_take_the_fast_path_or_fall_back(index, queries) -> None:
    expected_scores, expected_rows = index.search(queries, 7, fast_path=False)
    forms = [
        tf.constant(queries),  # eager tensor
        queries.tolist(),  # converted to float32
        np.asfortranarray(queries),  # made contiguous
        queries.astype(np.float64),  # cast to float32, as the TF op's conversion casts it
    ]
    for form in forms:
        scores, rows = index.search(form, 7)
        np.testing.assert_array_equal(rows.numpy(), expected_rows.numpy())
        np.testing.assert_array_equal(scores.numpy(), expected_scores.numpy())
    empty_scores, empty_rows = index.search(np.zeros((0, DIM), np.float32), 7)
    assert empty_scores.shape == empty_rows.shape == (0, 7)


def test_what_the_fast_path_does_not_take_the_tf_op_rejects_as_before(index, queries) -> None:
    for form in (tf.constant(queries, tf.float64), np.zeros((2, DIM + 1), np.float32)):
        for fast_path in (True, False):
            with pytest.raises(tf.errors.InvalidArgumentError):
                index.search(form, 3, fast_path=fast_path)


def test_without_pybind_eager_searches_use_the_tf_op(monkeypatch, embeddings, queries) -> None:
    reference = build_index(embeddings, BUILDS["tree+ah+reorder"])
    monkeypatch.setattr(scann_pybind_search, "load_scann_pybind", lambda: None)
    index = build_index(embeddings, BUILDS["tree+ah+reorder"])
    assert not index.has_fast_path
    for batch in (1, 9):
        expected = reference.search(queries[:batch], 10)
        got = index.search(queries[:batch], 10)
        np.testing.assert_array_equal(got[1].numpy(), expected[1].numpy())
        np.testing.assert_array_equal(got[0].numpy(), expected[0].numpy())
        arrays = index.search_arrays(queries[:batch], 10)
        np.testing.assert_array_equal(arrays[1], expected[1].numpy())
        np.testing.assert_array_equal(arrays[0], expected[0].numpy())


def test_a_pybind_load_failure_falls_back_to_the_tf_op(monkeypatch, embeddings, queries) -> None:
    reference = build_index(embeddings, BUILDS["tree+ah+reorder"])

    def fail(state: object, pybind: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(scann_pybind_search, "pybind_searcher_from_state", fail)
    with pytest.warns(RuntimeWarning, match="No space left on device"):
        index = build_index(embeddings, BUILDS["tree+ah+reorder"])
    assert not index.has_fast_path
    expected, got = reference.search(queries, 10), index.search(queries, 10)
    np.testing.assert_array_equal(got[1].numpy(), expected[1].numpy())
    np.testing.assert_array_equal(got[0].numpy(), expected[0].numpy())


def test_the_built_tf_searcher_is_freed_and_recreated_on_demand(embeddings, queries) -> None:
    index = build_index(embeddings, BUILDS["tree+ah+reorder"])
    assert index._searcher is None  # one copy of the catalogue less: the pybind one serves
    _both(index, queries, 10)
    assert index._searcher is not None  # fast_path=False recreated it from the state


def test_threads_sharing_the_fast_path_get_sequential_results(embeddings, queries) -> None:
    index = build_index(embeddings, BUILDS["tree+ah+reorder"])
    expected = [index.search(queries[i : i + 1 + i % 3], 5 + i) for i in range(6)]
    failures: list[str] = []

    def work() -> None:
        for repeat in range(150):
            i = repeat % 6
            scores, rows = index.search(queries[i : i + 1 + i % 3], 5 + i)
            if not (
                np.array_equal(rows.numpy(), expected[i][1].numpy())
                and np.array_equal(scores.numpy(), expected[i][0].numpy())
            ):
                failures.append(f"request {i}")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
