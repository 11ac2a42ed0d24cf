"""benchmarks/quality/report.py: the targets and the negative-transfer verdicts it writes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

from quality.report import write_results


def _results(joint: dict[str, list[float]], single: dict[str, dict[str, list[float]]]) -> Any:
    def run(values: dict[str, list[float]]) -> dict[str, Any]:
        seeds = len(next(iter(values.values())))
        return {
            "config": {},
            "knobs_changed": "{}",
            "seeds": {
                str(seed): {"train_seconds": 30.0, **{k: v[seed] for k, v in values.items()}}
                for seed in range(seeds)
            },
        }

    return {
        "meta": {
            "command": "benchmarks/movielens_quality.py",
            "date_utc": "2026-12-04 00:00 UTC",
            "machine": "test",
            "tensorflow": "2.20.0",
            "total_seconds": 1.0,
            "evaluation": "test",
            "num_train": 8,
            "num_evaluation": 2,
            "num_users": 2,
            "num_items": 3,
            "seeds": [0, 1, 2],
        },
        "baselines": {"ease (λ=500)": {"retrieval/recall@10": 0.425, "retrieval/ndcg@10": 0.44}},
        "tfrs_tutorial": {},
        "models": {"joint": run(joint), **{name: run(v) for name, v in single.items()}},
        "ablation": {},
    }


def _markdown(tmp_path: Path, results: Any) -> list[str]:
    write_results(results, tmp_path / "quality")
    return (tmp_path / "quality.md").read_text().splitlines()


def _line(lines: list[str], prefix: str) -> str:
    return next(line for line in lines if line.startswith(prefix))


def test_a_gap_below_the_printed_precision_is_not_negative_transfer(tmp_path: Path) -> None:
    # Every seed's AUC rounds to 1.0000 and the spread is 0: a 3e-7 gap is not transfer.
    joint = {"genres/auc": [0.9999963, 0.9999963, 0.9999963], "genres/micro_f1": [0.99, 0.99, 0.99]}
    single = {"genres/auc": [0.9999966] * 3, "genres/micro_f1": [0.995, 0.995, 0.995]}
    lines = _markdown(tmp_path, _results(joint, {"genres_only": single}))
    auc = _line(lines, "- genres/auc")
    assert "no negative transfer" in auc and "4-decimal precision" in auc
    # A real gap with the same zero spread still is.
    assert "NEGATIVE TRANSFER" in _line(lines, "- genres/micro_f1")


def test_negative_transfer_is_judged_against_the_seed_spread(tmp_path: Path) -> None:
    joint = {"rating/rmse": [0.880, 0.884, 0.882]}
    within = {"rating/rmse": [0.879, 0.881, 0.880]}  # joint worse by 0.002, spread 0.0016
    lines = _markdown(tmp_path, _results(joint, {"rating_only": within}))
    assert "NEGATIVE TRANSFER" in _line(lines, "- rating/rmse: joint")
    wider = {"rating/rmse": [0.876, 0.884, 0.880]}  # spread 0.0033
    lines = _markdown(tmp_path, _results(joint, {"rating_only": wider}))
    assert "no negative transfer" in _line(lines, "- rating/rmse: joint")


def test_targets_report_the_mean_and_the_worst_seed(tmp_path: Path) -> None:
    joint = {
        "retrieval/recall@10": [0.4289, 0.4323, 0.4326],
        "retrieval/ndcg@10": [0.4511, 0.4536, 0.4518],
        "rating/rmse": [0.8822, 0.9010, 0.8824],
    }
    lines = _markdown(tmp_path, _results(joint, {}))
    recall = _line(lines, "- retrieval/recall@10 =")
    assert recall.startswith("- retrieval/recall@10 = 0.4313 (target >= 0.43): met")
    assert recall.endswith("worst seed 0.4289: NOT met")
    assert _line(lines, "- retrieval/ndcg@10 =").endswith("worst seed 0.4511: met")
    assert _line(lines, "- rating/rmse =").endswith("worst seed 0.9010: NOT met")
    assert _line(lines, "- retrieval/recall@10 vs EASE").endswith("+0.0063")


def test_a_run_without_single_task_models_or_the_tutorial_has_no_empty_sections(
    tmp_path: Path,
) -> None:
    lines = _markdown(tmp_path, _results({"retrieval/recall@10": [0.43, 0.44, 0.42]}, {}))
    assert not any(line.startswith("## Negative transfer") for line in lines)
    assert not any(line.startswith("| tfrs_tutorial") for line in lines)
    lines = _markdown(
        tmp_path,
        _results({"rating/rmse": [0.88, 0.88, 0.88]}, {"rating_only": {"rating/rmse": [0.92] * 3}}),
    )
    assert any(line.startswith("## Negative transfer") for line in lines)
