"""`benchmarks/run_cost.py` on a toy shop: the child `tfrs-mtl train` runs, its costs are read
from the child alone and the results table has every column. Behaviour only, never timings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import run_cost


@pytest.mark.slow
def test_a_toy_case_is_measured_from_its_own_child_process(tmp_path: Path) -> None:
    row = run_cost.run_case("toy", (150, 60, 1_500), 0, tmp_path)
    assert (tmp_path / "toy" / "metrics.json").is_file()
    assert set(row["phases"]) == set(run_cost.PHASES)
    # The default run fits its blend on a carve-out: both models' training is timed.
    assert 0 < row["blend_fit_training_seconds"] < row["phases"]["blend_fit"]
    assert 0 < row["served_training_seconds"] < row["phases"]["train"]
    assert sum(row["phases"].values()) < row["wall_seconds"]
    assert row["wall_over_both_trainings"] < row["wall_over_served_training"]
    # The child's own peak: a TensorFlow process holds hundreds of MB, the parent test
    # process's memory is not counted in (it is not the child's).
    assert 0.2 < row["peak_gb"] < 8
    assert row["best_baseline"] in row["baselines_ndcg@10"]
    assert set(row["baselines_ndcg@10"]) >= {"popularity", "ease", "item_knn"}
    table = run_cost.markdown(
        {
            "meta": {
                "command": "benchmarks/run_cost.py",
                "date_utc": "-",
                "machine": "-",
                "tensorflow": "-",
                "total_seconds": row["wall_seconds"],
            },
            "cases": [row],
        }
    )
    assert "| toy | 150 / 60 / 1,500 |" in table
    assert f"| {row['best_baseline']} " in table


@pytest.mark.slow
def test_a_failing_child_is_reported_with_its_output(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="exited 1"):
        run_cost.run_case("broken", (0, 60, 1_500), 0, tmp_path)
