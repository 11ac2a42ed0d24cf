"""benchmarks/serving.py at toy size: it runs, its results have the documented fields, and
the loaded export answers exactly like the in-process recommender."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest


def load_benchmark() -> ModuleType:
    path = Path(__file__).parents[1] / "benchmarks" / "serving.py"
    spec = importlib.util.spec_from_file_location("serving_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def benchmark() -> ModuleType:
    return load_benchmark()


def test_requests_are_known_users_and_every_tenth_excludes_items(benchmark) -> None:
    requests = benchmark.single_requests(20, num_users=7, num_items=50, seed=0)
    assert len(requests) == 20
    excluding = [index for index, (_, exclude) in enumerate(requests) if exclude is not None]
    assert excluding == [9, 19]
    for features, _ in requests:
        assert 0 <= int(features["user_id"][0]) < 7
        assert features["user_segment"][0] == str(int(features["user_id"][0]) % 8)
    assert all(0 <= int(item) < 50 for item in requests[9][1][0])
    assert len(requests[9][1][0]) == benchmark.NUM_EXCLUDED


def test_latency_summary_percentiles(benchmark) -> None:
    summary = benchmark.latency_summary([0.001 * value for value in range(1, 101)])
    assert summary["count"] == 100
    assert summary["p50_ms"] == pytest.approx(50.5)
    assert summary["p99_ms"] == pytest.approx(99.01)
    assert summary["max_ms"] == pytest.approx(100.0)


def test_benchmark_core_runs_and_loaded_equals_in_process(benchmark, tmp_path: Path) -> None:
    results = benchmark.run(300, 12, tmp_path, num_users=40, train_steps=0, fresh_process=False)
    assert results["loaded_equals_in_process"] is True
    assert results["ranking_tasks"] == ["rating", "click"]
    assert results["build"]["built_index_config"]["kind"] == "scann"
    assert results["build"]["export_seconds"] > 0
    loaded = results["loaded"]
    for call in ("recommend", "signature"):
        row = loaded[call]
        assert row["count"] == 12
        assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"] <= row["max_ms"]
    assert set(loaded["batched"]) == {"64", "256"}
    assert all(np.isfinite(row["users_per_second"]) for row in loaded["batched"].values())
    table = benchmark.markdown(results)
    assert "| `LoadedRecommender.recommend`" in table
    assert "equals the in-process recommender: True" in table
