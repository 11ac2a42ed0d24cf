"""`benchmarks/purchase_ranking_headroom.py`: the re-ranking by stage 1 plus a planted signal,
the best weight by its mean over the seeds, and the table (trained runs replaced by fixed
numbers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import purchase_ranking_headroom as headroom


def test_a_signal_reorders_stage_one_by_its_weight_and_invalid_slots_come_last() -> None:
    items = np.array([[10, 11, 12, -1]])
    stage_one = np.array([[3.0, 2.0, 1.0, 0.0]])
    signal = np.array([[0.0, 0.0, 9.0, 0.0]])
    valid = items >= 0
    assert headroom.reranked(items, stage_one, signal, valid, 0.0)[0, :3].tolist() == [10, 11, 12]
    assert headroom.reranked(items, stage_one, signal, valid, 4.0)[0, :3].tolist() == [12, 10, 11]
    assert headroom.reranked(items, stage_one, signal, valid, 4.0)[0, 3] == -1


def _run(lift: float) -> dict:
    weights = [str(weight) for weight in headroom.WEIGHTS]
    by_weight = {weight: 1.0 for weight in weights}
    return {
        "served": 0.5,
        "stage_one": 0.5 / lift,
        "candidates_stage_one": 0.4,
        "blend": {"retrieval": 1.0},
        "purchase given view": {**by_weight, "2.0": 1.0 + lift},
        "affinity": {**by_weight, "4.0": 1.2},
        "price": dict(by_weight),
    }


def test_the_best_weight_is_the_best_mean_over_the_seeds() -> None:
    summary = headroom.summarise({"0": _run(0.1), "1": _run(0.2)})
    assert summary["served_over_stage_one"] == pytest.approx([0.15, 0.1, 0.2])
    assert summary["purchase given view"] == {"weight": 2.0, "ratio": pytest.approx(1.15)}
    assert summary["affinity"] == {"weight": 4.0, "ratio": pytest.approx(1.2)}
    assert summary["price"]["ratio"] == 1.0


def test_the_program_writes_its_table_and_json(tmp_path: Path) -> None:
    results = headroom.main(
        ["--cases", "synthetic-1k", "--seeds", "0", "1", "--out", str(tmp_path)],
        run=lambda case, seed: _run(0.1 * (seed + 1)),
    )
    table = (tmp_path / "purchase_ranking_headroom.md").read_text()
    assert "| synthetic-1k | 0.150 (0.100-0.200) | 1.150 (weight 2) | 1.200 (weight 4) |" in table
    assert "| synthetic-1k seed 1 | purchase given view | 1.000 | 1.000 | 1.000 | 1.200 |" in table
    saved = json.loads((tmp_path / "purchase_ranking_headroom.json").read_text())
    assert saved["summary"] == json.loads(json.dumps(results["summary"]))
