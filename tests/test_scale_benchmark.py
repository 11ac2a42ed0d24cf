"""`benchmarks/scale.py` at toy size: every stage reports wall time and memory, and the
results file has its schema. Tests behaviour only, never timings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import scale

STAGES = [
    "generate",
    "prepare",
    "fit_vocabularies",
    "build_model",
    "build_dataset",
    "train_epoch",
    "embed_and_index",
    "evaluate",
]
MEASURES = {
    "wall_seconds",
    "cpu_seconds",
    "rss_start_gib",
    "rss_peak_gib",
    "rss_end_gib",
    "ru_maxrss_gib",
}


def test_memory_sampler_peak_covers_an_allocation() -> None:
    with scale.MemorySampler(interval=0.001) as sampler:
        sampler.reset()
        before = sampler.peak()
        block = bytearray(64 << 20)  # 64 MiB, touched below so that it is resident
        block[::4096] = b"x" * len(block[::4096])
        assert sampler.peak() >= before + (60 << 20)
        del block


# Tens of seconds on the shared 2-core machine (TensorFlow tracing of every model).
@pytest.mark.slow
def test_toy_run_reports_every_stage_with_time_and_memory(tmp_path: Path) -> None:
    stem = tmp_path / "scale"
    argv = ["--events", "3000", "--items", "300", "--users", "300", "--eval-users", "50"]
    results = scale.main([*argv, "--batch-size", "256", "--out", str(stem)])
    assert json.loads(stem.with_suffix(".json").read_text()) == json.loads(json.dumps(results))
    stages = results["stages"]
    assert list(stages) == STAGES
    for name, row in stages.items():
        assert set(row) >= MEASURES, name
        assert row["rss_peak_gib"] >= row["rss_start_gib"] > 0, name
    assert stages["generate"]["events"] >= 3000  # views plus the funnel's events
    prepare = stages["prepare"]
    assert prepare["train_rows"] > 0 and prepare["test_rows"] > 0
    assert stages["embed_and_index"]["items"] == stages["fit_vocabularies"]["catalogue_items"]
    evaluation = stages["evaluate"]
    assert 0 < evaluation["users"] <= 50
    assert 0.0 <= evaluation["metrics"]["recall@10"] <= 1.0
    assert 0.0 <= evaluation["index_recall_at_10_vs_exact"] <= 1.0
    total = results["total"]
    assert total["ru_maxrss_gib"] >= max(row["rss_peak_gib"] for row in stages.values()) - 0.01
    assert total["memory_target_met"] == (total["ru_maxrss_gib"] < 8.0)
    table = stem.with_suffix(".md").read_text()
    assert all(f"| {name} |" in table for name in STAGES)
