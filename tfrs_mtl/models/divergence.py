"""`StopOnNonFiniteLoss`: training stops at the first NaN or infinite loss, naming the task and
the step, instead of training on (and saving) garbage.

Keras' own `TerminateOnNaN` only sets `stop_training` on the combined loss: `fit` then returns
normally and the caller writes NaN weights. This callback raises `TrainingDivergedError`, so a
run fails loudly, and it names the first task whose `<task>/loss` is not finite. The
`<task>/loss` logs are epoch running means (`tf.keras.metrics.Mean`), which stay non-finite
once one step's loss was, so the first batch that shows it is the step that diverged.

Example:
    >>> model.fit(dataset, epochs=3)  # doctest: +SKIP
    TrainingDivergedError: task 'rating' loss became nan at epoch 2, step 137 (global step 537)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf


class TrainingDivergedError(RuntimeError):
    """A training loss became NaN or infinite.

    Attributes:
        task: the first task whose loss is not finite (None: only the combined loss is).
        epoch: 1-based epoch.
        step: 1-based step within the epoch.
        global_step: optimizer updates so far (this step's included).
    """

    def __init__(self, message: str, task: str | None, epoch: int, step: int, global_step: int):
        super().__init__(message)
        self.task = task
        self.epoch = epoch
        self.step = step
        self.global_step = global_step


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def non_finite_losses(logs: Mapping[str, Any], task_names: Sequence[str]) -> dict[str, float]:
    """`{name: value}` of the task losses (`<task>/loss`, keyed by task) and the combined
    `loss` (keyed `loss`) in `logs` that are NaN or infinite; tasks first, in order."""
    found: dict[str, float] = {}
    for name, key in [(task, f"{task}/loss") for task in task_names] + [("loss", "loss")]:
        value = _as_float(logs.get(key))
        if value is not None and not math.isfinite(value):
            found[name] = value
    return found


class StopOnNonFiniteLoss(tf.keras.callbacks.Callback):
    """Raises `TrainingDivergedError` at the first training step whose loss is NaN or inf.

    `MultiTaskModel.fit` adds it by default. It reads each batch's logs (`<task>/loss` of
    every task of `model.config`, and `loss`); on a plain Keras model it checks `loss` only.
    """

    def __init__(self) -> None:
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        config = getattr(self.model, "config", None)
        task_names = [task.name for task in getattr(config, "tasks", ())]
        bad = non_finite_losses(logs or {}, task_names)
        if not bad:
            return
        first, value = next(iter(bad.items()))
        task = None if first == "loss" else first
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        global_step = int(iterations.numpy()) if iterations is not None else batch + 1
        epoch, step = self._epoch + 1, batch + 1
        subject = f"task {task!r} loss" if task else "the combined loss"
        others = [name for name in bad if name not in (first, "loss")]
        also = f"; also not finite: {', '.join(others)}" if others else ""
        raise TrainingDivergedError(
            f"training diverged: {subject} became {value} at epoch {epoch}, step {step} "
            f"(global step {global_step}){also}. Check the labels for NaN/inf values or "
            "lower the learning rate.",
            task,
            epoch,
            step,
            global_step,
        )
