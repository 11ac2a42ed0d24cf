"""`StopOnNonFiniteLoss`: a NaN or infinite loss stops `MultiTaskModel.fit` with an error
naming the task and the step; `tfrs-mtl train` then fails with one Error line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from tests.test_multitask_model import movielens_arrays
from tfrs_mtl.cli import main
from tfrs_mtl.models import MultiTaskModel, build_dataset, movielens_config
from tfrs_mtl.models.divergence import TrainingDivergedError, non_finite_losses


def test_non_finite_losses_lists_tasks_first_then_the_combined_loss() -> None:
    logs = {"loss": np.nan, "rating/loss": np.inf, "retrieval/loss": 1.0, "genres/loss": np.nan}
    found = non_finite_losses(logs, ["retrieval", "rating", "genres"])
    assert list(found) == ["rating", "genres", "loss"]
    assert non_finite_losses({"loss": 2.0, "rating/loss": 1.0}, ["rating"]) == {}


def _model(arrays: dict[str, np.ndarray]) -> MultiTaskModel:
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=4), arrays)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    return model


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_a_non_finite_rating_stops_fit_naming_the_task_epoch_and_step(bad_value: float) -> None:
    arrays = movielens_arrays(num_examples=48)
    model = _model(arrays)
    arrays["user_rating"] = arrays["user_rating"].copy()
    arrays["user_rating"][29] = bad_value  # row 29 is in the 4th batch of 8 (no shuffling)
    with pytest.raises(TrainingDivergedError) as caught:
        model.fit(build_dataset(arrays, 8, shuffle=False), epochs=2, verbose=0)
    error = caught.value
    assert (error.task, error.epoch, error.step, error.global_step) == ("rating", 1, 4, 4)
    assert "task 'rating' loss became" in str(error)
    assert "at epoch 1, step 4 (global step 4)" in str(error)


def test_a_later_fit_reports_its_own_epoch_and_step_and_the_global_step() -> None:
    arrays = movielens_arrays(num_examples=48)
    model = _model(arrays)
    arrays["user_rating"] = arrays["user_rating"].copy()
    model.fit(build_dataset(arrays, 8, shuffle=False), epochs=1, verbose=0)
    arrays["user_rating"][10] = np.inf  # 2nd batch of the 2nd epoch: global step 6 + 2
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, step 2 \(global step 8\)"):
        model.fit(build_dataset(arrays, 8, shuffle=False), epochs=1, verbose=0)


@pytest.mark.slow
def test_train_with_a_huge_learning_rate_fails_with_one_error_line(
    data_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--max-rows",
            "600",
            "--epochs",
            "1",
            "--batch-size",
            "64",
            "--learning-rate",
            "1e30",
            "--baselines",
            "none",
            "--quiet",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert re.search(r"task '\w+' loss became (nan|inf) at epoch 1, step \d+", errors[0])
    assert not out.exists()  # nothing half-written: the run made the folder, and removed it
