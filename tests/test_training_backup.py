"""`TrainingBackup`: a fit interrupted mid-epoch and resumed from its backup ends with the
same weights and the same per-epoch history as an uninterrupted fit (toy model, in-process;
tests/test_training_resume.py kills a real `tfrs-mtl train` with SIGKILL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from tests.test_multitask_model import movielens_arrays
from tfrs_mtl.experiments.experiment_config import ExperimentConfig
from tfrs_mtl.experiments.experiment_run import interrupted_run
from tfrs_mtl.experiments.run_report import experiment_yaml
from tfrs_mtl.experiments.training_backup import (
    TrainingBackup,
    full_history,
    resumable_stream,
    saved_position,
)
from tfrs_mtl.models import MultiTaskModel, build_dataset, movielens_config
from tfrs_mtl.tasks import LossWeightingCallback

EPOCHS, BATCH, STEPS = 2, 8, 6  # 48 toy rows: 6 steps an epoch


class KilledError(Exception):
    pass


class InterruptAt(tf.keras.callbacks.Callback):
    """Raises after the given (epoch, batch), as a kill would stop the run there."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.at, self.epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if (self.epoch, batch) == self.at:
            raise KilledError


def _fit(backup: Path, weighting: str, interrupt: tuple[int, int] | None = None) -> MultiTaskModel:
    arrays = movielens_arrays(num_examples=48)
    tf.keras.utils.set_random_seed(3)
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=4, weighting=weighting), arrays)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05))
    start = saved_position(backup, STEPS) or (0, 0)
    callbacks: list[tf.keras.callbacks.Callback] = [
        LossWeightingCallback(),
        TrainingBackup(backup, save_every_steps=2, steps_per_epoch=STEPS),
    ]
    if interrupt:
        callbacks.append(InterruptAt(*interrupt))
    stream = resumable_stream(build_dataset(arrays, BATCH, seed=5), EPOCHS, STEPS, start)
    model.fit(stream, epochs=EPOCHS, steps_per_epoch=STEPS, callbacks=callbacks, verbose=0)
    return model


@pytest.mark.parametrize("weighting", ["uncertainty", pytest.param("dwa", marks=pytest.mark.slow)])
def test_a_fit_resumed_mid_epoch_ends_where_an_uninterrupted_one_does(
    tmp_path: Path, weighting: str
) -> None:
    reference = _fit(tmp_path / "reference", weighting)
    with pytest.raises(KilledError):
        _fit(tmp_path / "resumed", weighting, interrupt=(1, 4))
    # Backups after steps 2 and 4 of each epoch (0-based batches 1 and 3) and at epoch ends.
    assert saved_position(tmp_path / "resumed", STEPS) == (1, 4)
    resumed = _fit(tmp_path / "resumed", weighting)
    assert len(reference.weights) == len(resumed.weights)
    for expected, actual in zip(reference.weights, resumed.weights, strict=True):
        np.testing.assert_array_equal(expected.numpy(), actual.numpy(), err_msg=expected.name)
    assert full_history(tmp_path / "resumed") == full_history(tmp_path / "reference")
    assert len(full_history(tmp_path / "resumed")["loss"]) == EPOCHS


def test_saved_position_is_none_without_a_backup(tmp_path: Path) -> None:
    assert saved_position(tmp_path, STEPS) is None


def test_resumable_stream_skips_the_batches_already_trained() -> None:
    def batches(start: tuple[int, int]) -> list[list[int]]:
        # Built afresh, as in a restarted process: iterating one dataset object twice would
        # draw the next shuffle seeds.
        dataset = tf.data.Dataset.range(5).shuffle(5, seed=1).batch(2)  # 3 steps an epoch
        return [batch.numpy().tolist() for batch in resumable_stream(dataset, 2, 3, start)]

    whole, rest = batches((0, 0)), batches((1, 1))
    assert len(whole) == 6 and rest == whole[4:]
    assert sorted(value for batch in whole[:3] for value in batch) == list(range(5))


def test_an_interrupted_run_of_another_config_is_refused(tmp_path: Path) -> None:
    config = ExperimentConfig(epochs=2)
    assert not interrupted_run(tmp_path, config)
    (tmp_path / ".backup").mkdir()
    (tmp_path / ".backup" / "experiment.yaml").write_text(experiment_yaml(config))
    assert interrupted_run(tmp_path, config)
    with pytest.raises(FileExistsError, match="interrupted run of another experiment"):
        interrupted_run(tmp_path, ExperimentConfig(epochs=3))
