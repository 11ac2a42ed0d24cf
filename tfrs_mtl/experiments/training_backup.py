"""Resuming a run after a kill: `TrainingBackup` (a `tf.keras.callbacks.BackupAndRestore`)
plus the three things Keras' callback leaves out of a mid-epoch resume.

Keras backs up the model (weights, optimizer slots and iteration count, every loss-weighting
variable: uncertainty log-variances, GradNorm weights, DWA loss history) with the epoch and
batch it reached, and on restart `fit` starts at that epoch and step. It does not:

1. **move the data to that step**: a restarted `fit` reads the epoch from its first batch.
   `resumable_stream` feeds `fit` one stream of every epoch's batches (`dataset.repeat`, which
   reshuffles exactly as re-iterating the dataset does) and skips the batches already trained
   on, so the resumed run sees the same batches in the same order as an uninterrupted one;
2. **keep the epoch's running means**: `fit` resets the metrics at every epoch start, so the
   resumed epoch's `loss`, `<task>/loss`, ... would average only its second half. The backed-up
   metric state is put back after that reset;
3. **keep the finished epochs' history**: the restarted `fit` returns only the epochs it ran.
   Each epoch's logs are written to `history.json` in the backup folder before the epoch's
   backup, and `full_history` joins them.

A backup is never written at an epoch's last batch: the epoch-end backup (after validation and
the loss weighting's `end_epoch`, so the callback must come after `LossWeightingCallback`)
stands for it. With TensorFlow op determinism on and no dropout, a resumed run ends with the
same weights and metrics as an uninterrupted one, bit for bit (tests/test_training_resume.py).
Random ops with hidden state (dropout masks) restart their sequence on resume: with dropout
the resumed run is statistically, not bitwise, the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.experiments import run_outputs as files

CHECKPOINT_SUBDIR = "chief"  # where `BackupAndRestore` keeps its checkpoint
HISTORY_FILE = "history.json"


def saved_position(backup_dir: Path, steps_per_epoch: int) -> tuple[int, int] | None:
    """`(epoch, step)`, both 0-based, at which a run backed up in `backup_dir` resumes (the
    first step not yet trained), or None when there is no backup yet."""
    checkpoint = tf.train.latest_checkpoint(str(backup_dir / CHECKPOINT_SUBDIR))
    if checkpoint is None:
        return None
    reader = tf.train.load_checkpoint(checkpoint)
    epoch = int(reader.get_tensor("ckpt_saved_epoch/.ATTRIBUTES/VARIABLE_VALUE"))
    batch = int(reader.get_tensor("ckpt_saved_batch/.ATTRIBUTES/VARIABLE_VALUE"))
    if epoch < 0 or batch < 0:
        return None
    # The same rule as Keras' `WorkerTrainingState.maybe_load_initial_counters_from_ckpt`.
    return (epoch + 1, 0) if batch >= steps_per_epoch - 1 else (epoch, batch + 1)


def resumable_stream(
    dataset: tf.data.Dataset, epochs: int, steps_per_epoch: int, start: tuple[int, int]
) -> tf.data.Dataset:
    """Every epoch's batches of `dataset` in one stream, from `start = (epoch, step)` on.

    Pass it to `fit` with `steps_per_epoch`: `fit` then draws each epoch's batches from the one
    stream, and a resumed `fit` (starting at `start`) gets the batches it would have had.
    `dataset` must be freshly built with a seeded shuffle (a dataset already iterated draws
    the next shuffle seeds).
    """
    epoch, step = start
    return dataset.repeat(epochs).skip(epoch * steps_per_epoch + step)


def read_history(backup_dir: Path) -> dict[int, dict[str, float]]:
    """The finished epochs' logs recorded in `backup_dir` (0-based epoch -> logs)."""
    path = backup_dir / HISTORY_FILE
    if not path.is_file():
        return {}
    content = json.loads(path.read_text(encoding="utf-8"))
    return {int(epoch): logs for epoch, logs in content.items()}


def full_history(backup_dir: Path) -> dict[str, list[float]]:
    """`History.history`-like series over every finished epoch, interrupted runs included."""
    by_epoch = read_history(backup_dir)
    keys = sorted({key for logs in by_epoch.values() for key in logs})
    return {
        key: [by_epoch[epoch].get(key, float("nan")) for epoch in sorted(by_epoch)] for key in keys
    }


class TrainingBackup(tf.keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` every `save_every_steps` steps and at each epoch's end, restoring
    the epoch's running metrics and recording each epoch's logs (see the module docstring).

    The backup is kept when `fit` ends (`delete_checkpoint=False`): the caller removes the
    folder once everything that depends on training is written, so that a kill during
    evaluation or export also resumes (with no epoch left to train).

    Args:
        backup_dir: the folder of the backup (created on first save).
        save_every_steps: steps between mid-epoch backups.
        steps_per_epoch: steps of one epoch (no mid-epoch backup at its last step).
    """

    def __init__(self, backup_dir: Path, save_every_steps: int, steps_per_epoch: int) -> None:
        super().__init__(str(backup_dir), save_freq=save_every_steps, delete_checkpoint=False)
        self.backup_path = Path(backup_dir)
        self.steps_per_epoch = steps_per_epoch
        self._metric_state: list[np.ndarray] | None = None

    def _metric_variables(self) -> list[tf.Variable]:
        return [variable for metric in self.model.metrics for variable in metric.variables]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        position = saved_position(self.backup_path, self.steps_per_epoch)
        # Mid-epoch: `fit` resets the metrics before the epoch starts; keep the restored ones.
        if position is not None and position[1] > 0:
            self._metric_state = [variable.numpy() for variable in self._metric_variables()]

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_epoch_begin(epoch, logs)
        self._batches_count = 0  # every `save_every_steps` steps of each epoch, from its start
        if self._metric_state is not None:
            for variable, value in zip(self._metric_variables(), self._metric_state, strict=True):
                variable.assign(value)
            self._metric_state = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if batch >= self.steps_per_epoch - 1:
            return  # the epoch-end backup stands for the epoch's last step
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        history = read_history(self.backup_path)
        history[epoch] = {key: float(value) for key, value in (logs or {}).items()}
        self.backup_path.mkdir(parents=True, exist_ok=True)
        files.write_json_atomically(
            self.backup_path / HISTORY_FILE, {str(k): v for k, v in sorted(history.items())}
        )
        self._backup(epoch=epoch, batch=self.steps_per_epoch - 1)
