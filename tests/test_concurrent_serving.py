"""One recommender shared by 8 threads, 1,000 requests each: no errors, and every result
identical to the same request made sequentially; in-process and after export + load.
The full 8 x 1,000 runs in the slow suite; the default suite runs 8 x 125."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from servable_fixtures import FakeServableModel, make_catalogue, make_queries

from tfrs_mtl.serving import load
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.recommendations import Recommendations
from tfrs_mtl.serving.recommender import Recommender

NUM_THREADS = 8
PER_THREAD = [pytest.param(1_000, marks=pytest.mark.slow, id="1000"), pytest.param(125, id="125")]
NUM_ITEMS = 120
USERS = [f"u{i}" for i in range(20)] + ["somebody new"]


def _requests() -> list[dict[str, Any]]:
    """24 distinct requests: users, batch sizes, k, exclusions, blends and methods vary."""
    requests = []
    for number in range(24):
        users = [USERS[(number + offset) % len(USERS)] for offset in range(1 + number % 3)]
        method = ("recommend", "retrieve", "score")[number % 3]
        arguments: dict[str, Any] = {"query_features": make_queries(users)}
        if method == "recommend":
            arguments.update(
                k=3 + number % 5,
                num_candidates=20,
                exclude=[[f"m{number}"]] * len(users),
                blend={"rating": 1.0, "purchase": float(number % 2)},
            )
        elif method == "retrieve":
            arguments.update(k=5 + number % 4)
        else:
            arguments.update(candidate_ids=[[f"m{number}", "m1", "m7"]] * len(users))
        requests.append({"method": method, "arguments": arguments})
    return requests


def _call(recommender: Any, request: dict[str, Any]) -> Any:
    return getattr(recommender, request["method"])(**request["arguments"])


def _same(first: Any, second: Any) -> bool:
    if isinstance(first, Recommendations):
        return (
            np.array_equal(first.item_ids, second.item_ids)
            and np.array_equal(first.retrieval_scores, second.retrieval_scores, equal_nan=True)
            and np.array_equal(first.final_scores, second.final_scores, equal_nan=True)
            and first.scores.keys() == second.scores.keys()
            and all(
                np.array_equal(first.scores[task], second.scores[task], equal_nan=True)
                for task in first.scores
            )
        )
    if isinstance(first, dict):
        return first.keys() == second.keys() and all(
            np.array_equal(np.asarray(first[key]), np.asarray(second[key]), equal_nan=True)
            for key in first
        )
    return bool(np.array_equal(np.asarray(first), np.asarray(second)))


def _hammer(recommender: Any, requests_per_thread: int) -> tuple[list[str], int]:
    """Runs the threads; returns (errors and mismatches, requests checked)."""
    requests = _requests()
    expected = [_call(recommender, request) for request in requests]  # sequential
    problems: list[str] = []
    checked = [0] * NUM_THREADS
    start = threading.Barrier(NUM_THREADS)

    def worker(thread: int) -> None:
        start.wait()
        for number in range(requests_per_thread):
            which = (thread * 7 + number) % len(requests)
            try:
                result = _call(recommender, requests[which])
            except Exception as error:  # reported, not raised: every thread must finish
                problems.append(f"thread {thread} request {number}: {error!r}")
                continue
            if not _same(result, expected[which]):
                problems.append(f"thread {thread} request {number}: differs from sequential")
            checked[thread] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(NUM_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems, sum(checked)


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    model = FakeServableModel(num_items=NUM_ITEMS)
    config = IndexConfig(
        min_items_to_partition=1, num_leaves=2, num_leaves_to_search=2
    )  # a real ScaNN tree
    return Recommender(model, make_catalogue(NUM_ITEMS), config, progress=False)


@pytest.mark.parametrize("requests_per_thread", PER_THREAD)
def test_the_in_process_recommender_is_thread_safe(recommender, requests_per_thread: int) -> None:
    problems, checked = _hammer(recommender, requests_per_thread)
    assert problems[:5] == []
    assert checked == NUM_THREADS * requests_per_thread


@pytest.mark.parametrize("requests_per_thread", PER_THREAD)
def test_the_loaded_export_is_thread_safe(
    recommender, tmp_path: Path, requests_per_thread: int
) -> None:
    loaded = load(recommender.save(tmp_path / "export"))
    problems, checked = _hammer(loaded, requests_per_thread)
    assert problems[:5] == []
    assert checked == NUM_THREADS * requests_per_thread
