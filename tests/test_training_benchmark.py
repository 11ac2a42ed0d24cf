"""`benchmarks/training.py` at toy size: the schema of its results, and its time-to-quality
rule. Tests behaviour only, never timings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import training

RUN_KEYS = {
    "batch_size",
    "epochs",
    "epoch_seconds",
    "first_epoch_examples_per_second",
    "steady_examples_per_second",
    "train_seconds",
    "metrics_per_epoch",
    "trainable_parameters",
}
METRICS = {"retrieval/recall@10", "retrieval/ndcg@10", "rating/rmse"}


def _run(epoch_seconds: list[float], recalls: list[float], rmses: list[float]) -> dict:
    metrics = [
        {"retrieval/recall@10": recall, "rating/rmse": rmse}
        for recall, rmse in zip(recalls, rmses, strict=True)
    ]
    return {"epoch_seconds": epoch_seconds, "metrics_per_epoch": metrics}


def test_time_to_quality_is_the_first_epoch_meeting_both_targets() -> None:
    run = _run([5.0, 2.0, 2.0], [0.2, 0.4, 0.5], [0.95, 0.95, 0.85])
    assert training.time_to(run, 0.3, 1.0) == {"epoch": 2, "train_seconds": 7.0}
    assert training.time_to(run, 0.3, 0.9) == {"epoch": 3, "train_seconds": 9.0}
    assert training.time_to(run, 0.6, 0.9) == {"epoch": None, "train_seconds": None}


# Tens of seconds on the shared 2-core machine (TensorFlow tracing of every model).
@pytest.mark.slow
def test_toy_run_writes_every_run_with_times_and_metrics(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFRS_MTL_DATA_DIR", str(data_root))
    stem = tmp_path / "training"
    results = training.main(
        ["--quick", "--max-rows", "3000", "--batch-size", "512", "--out", str(stem)]
    )
    assert json.loads(stem.with_suffix(".json").read_text()) == json.loads(json.dumps(results))
    table = stem.with_suffix(".md").read_text()
    runs = results["runs"]
    assert list(runs) == [
        "tutorial (own recipe)",
        "tutorial @ 512",
        "tutorial, no train-time top-k @ 512",
        "joint @ 512",
    ]
    for name, run in runs.items():
        assert set(run) >= RUN_KEYS, name
        assert f"| {name} |" in table
        assert len(run["epoch_seconds"]) == len(run["metrics_per_epoch"]) == run["epochs"]
        assert all(seconds > 0 for seconds in run["epoch_seconds"])
        assert all(set(metrics) == METRICS for metrics in run["metrics_per_epoch"])
    assert runs["tutorial (own recipe)"]["batch_size"] == training.TUTORIAL_BATCH
    assert runs["joint @ 512"]["epochs"] == 2  # --quick
    assert set(runs["joint @ 512"]["tasks"]) >= {"retrieval", "rating"}
    assert set(results["throughput_ratio"]) == {
        "tutorial @ 512",
        "tutorial, no train-time top-k @ 512",
    }
    assert set(results["time_to_quality"]) == {
        "tutorial's final quality",
        "Recall@10 >= 0.43, RMSE <= 0.90",
    }
    assert results["meta"]["num_train"] == 2400  # the tutorial split's 80% of 3,000 rows
