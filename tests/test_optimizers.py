"""build_optimizer: the trained model ends with the moving average of its weights."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.config import ConfigError
from tfrs_mtl.experiments import ExperimentConfig, run_experiment
from tfrs_mtl.models import averaging_momentum, build_optimizer


def test_averaging_momentum_keeps_at_most_one_percent_of_the_initial_weights() -> None:
    assert averaging_momentum(0.99, 474) == 0.99  # long enough: unchanged
    assert averaging_momentum(0.99, 46) == pytest.approx(1 - math.log(100) / 46)
    assert 0.005 < averaging_momentum(0.99, 46) ** 46 <= 0.01
    assert averaging_momentum(0.99, 4) == 0.0  # too short to average over
    assert averaging_momentum(0.0, 1000) == 0.0


@pytest.mark.parametrize(
    ("momentum", "num_steps", "message"),
    [(1.0, 10, "momentum=1.0 is not in [0, 1)"), (0.9, 0, "num_steps=0 must be >= 1")],
)
def test_averaging_momentum_rejects_bad_arguments(
    momentum: float, num_steps: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        averaging_momentum(momentum, num_steps)


def test_build_optimizer_options_and_errors() -> None:
    plain = build_optimizer("adagrad", 0.1)
    assert isinstance(plain, tf.keras.optimizers.Adagrad) and not plain.use_ema
    decayed = build_optimizer("adamw", 0.01, ema_momentum=0.9, num_steps=100, weight_decay=0.1)
    assert isinstance(decayed, tf.keras.optimizers.AdamW)
    assert (decayed.use_ema, decayed.ema_momentum, decayed.weight_decay) == (True, 0.9, 0.1)
    assert not build_optimizer("adam", 0.01, ema_momentum=0.99, num_steps=2).use_ema
    with pytest.raises(ValueError, match="needs num_steps"):
        build_optimizer("adam", 0.01, ema_momentum=0.99)
    with pytest.raises(ValueError, match="optimizer='sgd' is not one of"):
        build_optimizer("sgd", 0.01)  # type: ignore[arg-type]


class _WeightsAfterEachStep(tf.keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.weights: list[np.ndarray] = []

    def on_train_batch_end(self, batch: int, logs: object = None) -> None:
        self.weights.append(self.model.get_weights()[0].copy())


def _fit(ema_momentum: float | None, num_steps: int) -> tuple[np.ndarray, np.ndarray, list]:
    """A 3-weight linear model fitted `num_steps` steps; (initial, final, after each step)."""
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, use_bias=False, input_shape=(3,))])
    initial = model.get_weights()[0].copy()
    optimizer = build_optimizer("adam", 0.1, ema_momentum=ema_momentum, num_steps=num_steps)
    model.compile(optimizer=optimizer, loss="mse")
    features = np.random.default_rng(0).normal(size=(num_steps * 4, 3)).astype(np.float32)
    labels = features @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    steps = _WeightsAfterEachStep()
    model.fit(features, labels, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[steps])
    return initial, model.get_weights()[0], steps.weights


def test_fit_ends_with_the_moving_average_of_the_weights() -> None:
    num_steps = 50
    initial, raw_final, trajectory = _fit(None, num_steps)
    _, averaged_final, _ = _fit(0.9, num_steps)
    momentum = averaging_momentum(0.9, num_steps)
    assert momentum == 0.9
    average = initial
    for weights in trajectory:  # the same steps: same seed, data and optimizer
        average = momentum * average + (1 - momentum) * weights
    np.testing.assert_allclose(averaged_final, average, rtol=1e-5, atol=1e-6)
    assert np.abs(averaged_final - raw_final).max() > 1e-3  # the average is not the last step


def test_experiment_config_checks_ema_momentum() -> None:
    assert ExperimentConfig().ema_momentum == 0.99
    assert ExperimentConfig.from_dict({"ema_momentum": None}).ema_momentum is None
    with pytest.raises(ConfigError, match=r"ema_momentum=1.0 is not in \[0, 1\)"):
        ExperimentConfig(ema_momentum=1.0)


def test_a_run_trains_with_the_average_and_keeps_it(data_root: Path) -> None:
    config = ExperimentConfig(
        data_dir=str(data_root / "ml-100k"),
        max_rows=3000,
        epochs=2,
        baselines=(),
        validate_each_epoch=False,
        deterministic=False,
    )
    model = run_experiment(config, None, progress=False).model
    num_steps = config.epochs * math.ceil(2400 / config.batch_size)  # 80% of 3,000 rows
    assert model.optimizer.use_ema
    assert model.optimizer.ema_momentum == pytest.approx(averaging_momentum(0.99, num_steps))
    averages = model.optimizer._model_variables_moving_average
    for variable, average in zip(model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(variable.numpy(), average.numpy())
