"""write_report: report.md, metrics.json and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tfrs_mtl.evaluation.report import metrics_table, write_report

HISTORY = {
    "loss": [3.0, 2.0],
    "val_loss": [3.5, 2.5],
    "rating/loss": [1.5, 1.0],
    "val_rating/loss": [1.6, 1.2],
    "retrieval/loss": [1.5, 1.0],
    "rating/weight": [1.0, 0.8],
    "retrieval/weight": [1.0, 1.2],
    "rating/rmse": [1.2, 1.0],
}


def test_table_puts_model_beside_baselines() -> None:
    table = metrics_table(
        {"rating": {"rmse": 0.9}, "retrieval": {"recall@10": 0.3}},
        {"popularity": {"rating": {"rmse": 1.13}}},
    )
    assert table.splitlines() == [
        "| metric | model | popularity |",
        "| --- | ---: | ---: |",
        "| retrieval/recall@10 | 0.3000 | n/a |",
        "| rating/rmse | 0.9000 | 1.1300 |",
    ]


def test_table_puts_served_lists_first_and_baselines_serve_their_ranking() -> None:
    table = metrics_table(
        {"rating": {"rmse": 0.9}, "retrieval": {"ndcg@10": 0.3}, "served": {"ndcg@10": 0.32}},
        {"ease": {"retrieval": {"ndcg@10": 0.31}}},
    )
    assert table.splitlines()[2:] == [
        "| served/ndcg@10 | 0.3200 | 0.3100 |",
        "| retrieval/ndcg@10 | 0.3000 | 0.3100 |",
        "| rating/rmse | 0.9000 | n/a |",
    ]


def test_writes_every_file(tmp_path: Path) -> None:
    written = write_report(
        tmp_path / "run",
        {"rating": {"rmse": 0.9}},
        HISTORY,
        {"ease": {"rating": {"rmse": 1.0}}},
        {"model": np.linspace(0.1, 0.5, 100), "ease": np.linspace(0.2, 0.7, 100)},
        train_seconds=3.0,
    )
    assert set(written) == {"report", "metrics", "loss_curves", "task_weights", "recall_at_k"}
    for name in ("loss_curves", "task_weights", "recall_at_k"):
        assert written[name].read_bytes().startswith(b"\x89PNG")
    report = written["report"].read_text(encoding="utf-8")
    assert "![Task weights](task_weights.png)" in report
    assert "| rating/rmse | 0.9000 | 1.0000 |" in report
    assert json.loads(written["metrics"].read_text(encoding="utf-8")) == {
        "baselines/ease/rating/rmse": 1.0,
        "rating/rmse": 0.9,
        "train_seconds": 3.0,
    }


def test_plots_without_data_are_left_out(tmp_path: Path) -> None:
    written = write_report(tmp_path, {"rating": {"rmse": 0.9}}, history={"rating/rmse": [1.0]})
    assert set(written) == {"report", "metrics"}
    assert "png" not in written["report"].read_text(encoding="utf-8")


def test_loss_curves_name_the_rows_the_per_epoch_losses_were_computed_on() -> None:
    from tfrs_mtl.evaluation.report import _loss_series
    from tfrs_mtl.experiments.run_report import VALIDATION_CURVES

    assert _loss_series(HISTORY)["rating"] == {"train": [1.5, 1.0], "validation": [1.6, 1.2]}
    labelled = _loss_series(HISTORY, VALIDATION_CURVES)
    assert labelled["total"] == {"train": [3.0, 2.0], VALIDATION_CURVES: [3.5, 2.5]}


def test_a_run_reads_no_test_row_before_evaluation_and_validates_on_its_carve_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The per-epoch `val_*` losses of a run are the blend fit's carve-out model's on the
    carve-out: the served model trains with no validation rows, and no test row is read."""
    from tfrs_mtl.experiments import ExperimentConfig, experiment_run
    from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
    from tfrs_mtl.serving import IndexConfig

    calls = []
    train_model = experiment_run.train_model

    def recorded(config, data, train_positions, validation_positions=None, *args, **kwargs):
        trained = train_model(config, data, train_positions, validation_positions, *args, **kwargs)
        calls.append((train_positions, validation_positions, trained.history))
        return trained

    monkeypatch.setattr(experiment_run, "train_model", recorded)
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=80,
        synthetic_num_items=40,
        synthetic_num_events=2000,
        epochs=2,
        baselines=(),
        index=IndexConfig(kind="brute_force"),
    )
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    result = experiment_run.train_and_evaluate(config, data, train, test, progress=False)
    (fit_rows, carve_out, carve_history), (served_rows, served_validation, served_history) = calls
    assert served_validation is None and np.array_equal(np.sort(served_rows), np.sort(train))
    assert carve_out is not None and len(carve_out)
    assert np.intersect1d(carve_out, test).size == 0
    assert np.intersect1d(carve_out, fit_rows).size == 0
    assert np.array_equal(np.sort(np.concatenate([fit_rows, carve_out])), np.sort(train))
    assert not [key for key in served_history if key.startswith("val_")]
    assert result.history["loss"] == served_history["loss"]
    assert result.history["val_loss"] == carve_history["val_loss"]
    assert len(result.history["val_loss"]) == 2
