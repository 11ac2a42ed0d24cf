"""`build_optimizer`: the Keras optimizer a run trains with, optionally keeping an exponential
moving average of the weights that the trained model ends with.

Weight averaging (Polyak and Juditsky, "Acceleration of Stochastic Approximation by
Averaging", SIAM J. Control Optim. 1992) keeps `average = m * average + (1 - m) * weights`
after every step, in the optimizer's own slots (so checkpoints and resumed runs keep it and
SavedModels do not), and `Model.fit` writes the average into the weights when training ends
(Keras' `use_ema`).

The average starts from the initial weights, which keep `m ** num_steps` of it: a short run
with a long average would end close to where it started. `averaging_momentum` therefore
shortens the average of runs under `AVERAGING_HORIZONS / (1 - m)` steps so that the initial
weights keep at most 1% of it.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import tensorflow as tf

OptimizerName = Literal["adam", "adamw", "adagrad"]
OPTIMIZERS: dict[str, type[tf.keras.optimizers.Optimizer]] = {
    "adam": tf.keras.optimizers.Adam,
    "adamw": tf.keras.optimizers.AdamW,
    "adagrad": tf.keras.optimizers.Adagrad,
}
#: The initial weights keep `exp(-AVERAGING_HORIZONS)` (1%) of the average at most.
AVERAGING_HORIZONS = math.log(100.0)


def averaging_momentum(momentum: float, num_steps: int) -> float:
    """`momentum`, shortened so that after `num_steps` steps the initial weights keep at most
    1% of the average: `min(momentum, 1 - ln(100) / num_steps)` (0 when `num_steps` is too
    small to average over).

    Example:
        >>> averaging_momentum(0.99, 474)  # 6 epochs of MovieLens-100K at batch 1024
        0.99
        >>> round(averaging_momentum(0.99, 46), 2)
        0.9
    """
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum={momentum} is not in [0, 1)")
    if num_steps < 1:
        raise ValueError(f"num_steps={num_steps} must be >= 1")
    return max(0.0, min(momentum, 1.0 - AVERAGING_HORIZONS / num_steps))


def build_optimizer(
    name: OptimizerName,
    learning_rate: float,
    *,
    ema_momentum: float | None = None,
    num_steps: int | None = None,
    **options: Any,
) -> tf.keras.optimizers.Optimizer:
    """A Keras optimizer; with `ema_momentum`, one that averages the weights.

    Args:
        name: `adam`, `adamw` or `adagrad`.
        learning_rate: The optimizer's learning rate.
        ema_momentum: Momentum of the weights' exponential moving average, which the model
            holds once `fit` returns; None trains without averaging.
        num_steps: The run's training steps (epochs x steps per epoch), needed with
            `ema_momentum`: short runs get a shorter average (`averaging_momentum`).
        **options: More arguments of the optimizer's class (e.g. `weight_decay` for
            `adamw`).

    Returns:
        The optimizer, not yet built.

    Example:
        >>> optimizer = build_optimizer("adam", 0.002, ema_momentum=0.99, num_steps=474)
        >>> optimizer.use_ema, optimizer.ema_momentum
        (True, 0.99)
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not one of {sorted(OPTIMIZERS)}")
    averaging: dict[str, Any] = {}
    if ema_momentum is not None:
        if num_steps is None:
            raise ValueError(
                "ema_momentum needs num_steps (the run's training steps) to size the average"
            )
        momentum = averaging_momentum(ema_momentum, num_steps)
        if momentum > 0:
            averaging = {"use_ema": True, "ema_momentum": momentum}
    return OPTIMIZERS[name](learning_rate, **averaging, **options)
