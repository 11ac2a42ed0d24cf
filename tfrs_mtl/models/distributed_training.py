"""`train_distributed`: `MultiTaskModel` trained under a `tf.distribute` strategy.

Works with `MultiWorkerMirroredStrategy` (several hosts, `TF_CONFIG` per worker; see
docs/distributed.md), `MirroredStrategy` (several devices of one host) and the default
strategy (one process), with the same results up to float round-off: every step consumes one
global batch of `global_batch_size` examples split evenly over the replicas, each replica's
mean losses are scaled by `1 / num_replicas` before the gradients are summed, and the
in-batch retrieval negatives are all-gathered over the global batch (`cross_replica`).

Supported loss weightings: `fixed`, `uncertainty` (their weights are plain trainable
variables or constants). `dwa` and `gradnorm` update weight variables from per-replica losses
and gradient norms inside the step, and PCGrad projects per-replica gradients (not the
global ones), so they raise `ValueError` (`check_distributable`).

Example:
    >>> strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG
    >>> result = train_distributed(config, train_arrays, strategy, global_batch_size=4096)
    >>> result.history["loss"], result.is_chief
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.models.multitask_config import MultiTaskConfig
from tfrs_mtl.models.multitask_model import MultiTaskModel

SUPPORTED_WEIGHTINGS = ("fixed", "uncertainty")

OptimizerFactory = Callable[[], tf.keras.optimizers.Optimizer]


@dataclasses.dataclass(frozen=True, eq=False)
class DistributedTrainingResult:
    """What `train_distributed` returns on every worker.

    Attributes:
        model: The trained model (its variables are identical on every worker).
        history: Keras `History.history` (epoch means over the global batches).
        steps_per_epoch: Global steps per epoch (`num_examples // global_batch_size`).
        is_chief: Whether this worker is the one that writes outputs.
    """

    model: MultiTaskModel
    history: dict[str, list[float]]
    steps_per_epoch: int
    is_chief: bool


def check_distributable(config: MultiTaskConfig) -> None:
    """Raises `ValueError` for the loss weightings that cannot train under a strategy."""
    weighting = config.weighting
    if weighting.method not in SUPPORTED_WEIGHTINGS:
        raise ValueError(
            f"weighting.method={weighting.method!r} cannot train under a tf.distribute "
            f"strategy (it updates weight variables from per-replica losses inside the step); "
            f"use one of {SUPPORTED_WEIGHTINGS}"
        )
    if weighting.use_pcgrad:
        raise ValueError(
            "weighting.use_pcgrad=True cannot train under a tf.distribute strategy: PCGrad "
            "would project each replica's task gradients, not the global-batch ones; "
            "set use_pcgrad=False"
        )


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes outputs: the `chief` task, or `worker` 0 without one."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", None) or 0
    return task_type in (None, "chief") or (task_type == "worker" and task_id == 0)


def _allow_mean_losses(model: tf.keras.Model) -> None:
    """Lets the task losses reduce with SUM_OVER_BATCH_SIZE inside a replica.

    Keras refuses that reduction under a strategy unless the loss belongs to `compile` (which
    then scales it by `1 / num_replicas`); `MultiTaskModel`'s train step does that scaling
    itself (`cross_replica.scale_for_replicas`), so the replica-mean is the right reduction.
    """
    for layer in model.submodules:
        for value in vars(layer).values():
            if isinstance(value, tf.keras.losses.Loss):
                value._allow_sum_over_batch_size = True


def dataset_function(
    arrays: Mapping[str, np.ndarray], global_batch_size: int, shuffle: bool, seed: int
) -> Callable[[tf.distribute.InputContext], tf.data.Dataset]:
    """The per-worker input pipeline for `strategy.distribute_datasets_from_function`.

    Every worker shuffles the same way (same seed), keeps every `num_input_pipelines`-th
    example (explicit sharding, auto-sharding off) and batches `global_batch_size /
    num_replicas` examples: one step's replicas together hold the examples that one process
    would batch at `global_batch_size`. Batches are full (drop remainder) so that no replica
    waits on a shorter one; the dataset repeats, `fit` counts `steps_per_epoch`.
    """
    tensors = {
        name: tf.constant(values.astype(str) if values.dtype == object else values)
        for name, values in ((name, np.asarray(values)) for name, values in arrays.items())
    }
    num_examples = len(next(iter(arrays.values())))

    def make(context: tf.distribute.InputContext) -> tf.data.Dataset:
        dataset = tf.data.Dataset.from_tensor_slices(tensors)
        if shuffle:
            dataset = dataset.shuffle(num_examples, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
        batch_size = context.get_per_replica_batch_size(global_batch_size)
        dataset = dataset.batch(batch_size, drop_remainder=True).repeat()
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)

    return make


def train_distributed(
    config: MultiTaskConfig,
    train_arrays: Mapping[str, np.ndarray],
    strategy: tf.distribute.Strategy,
    *,
    global_batch_size: int,
    epochs: int = 1,
    optimizer: OptimizerFactory | None = None,
    shuffle: bool = True,
    seed: int = 42,
    out_dir: str | Path | None = None,
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> DistributedTrainingResult:
    """Builds `MultiTaskModel.from_data(config, train_arrays)` under `strategy` and fits it.

    Every worker must call it with the same arguments and the same `train_arrays` (each keeps
    its shard of every global batch). Vocabularies, statistics and the catalogue are fitted on
    the full `train_arrays` on every worker, so they agree without communication.

    Args:
        config: The model; its weighting must be in `SUPPORTED_WEIGHTINGS`, without PCGrad.
        train_arrays: Feature and label arrays `[num_examples, ...]`.
        strategy: E.g. `tf.distribute.MultiWorkerMirroredStrategy()`.
        global_batch_size: Examples per step over all replicas; a multiple of
            `strategy.num_replicas_in_sync`.
        epochs: Passes over `num_examples // global_batch_size` global batches.
        optimizer: Builds the optimizer (called under the strategy's scope); defaults to Adam
            at `config.learning_rate`.
        shuffle: Reshuffle the examples every epoch (the same way on every worker).
        seed: Seeds the weights' initialisation and the shuffling.
        out_dir: When given, the chief saves the trained model there (`save_model`); the other
            workers save to a temporary folder they delete (saving reads every variable,
            which needs every worker).
        callbacks: More Keras callbacks for `fit`.
        verbose: Keras `fit` verbosity.

    Raises:
        ValueError: for an unsupported weighting, a global batch not divisible by the number
            of replicas, or fewer examples than one global batch.
    """
    check_distributable(config)
    num_replicas = strategy.num_replicas_in_sync
    if global_batch_size % num_replicas:
        raise ValueError(
            f"global_batch_size={global_batch_size} is not a multiple of the "
            f"{num_replicas} replicas in sync"
        )
    num_examples = len(next(iter(train_arrays.values())))
    steps_per_epoch = num_examples // global_batch_size
    if steps_per_epoch == 0:
        raise ValueError(
            f"global_batch_size={global_batch_size} exceeds the {num_examples} training examples"
        )
    tf.keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = MultiTaskModel.from_data(config, train_arrays)
        _allow_mean_losses(model)
        make_optimizer = optimizer or (lambda: tf.keras.optimizers.Adam(config.learning_rate))
        model.compile(optimizer=make_optimizer())
    # The step's logs are metric results (already synchronised over the replicas) and task
    # weights (equal on every replica): take replica 0's, not Keras's default sum.
    model.distribute_reduction_method = "first"
    inputs = tf.keras.utils.experimental.DatasetCreator(
        dataset_function(train_arrays, global_batch_size, shuffle, seed)
    )
    fitted = model.fit(
        inputs,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=list(callbacks),
        verbose=verbose,
    )
    chief = is_chief(strategy)
    if out_dir is not None:
        target = Path(out_dir) if chief else Path(tempfile.mkdtemp(prefix="tfrs_mtl_worker_"))
        model.save_model(target)
        if not chief:
            shutil.rmtree(target, ignore_errors=True)
    history: dict[str, Any] = {
        name: [float(value) for value in values] for name, values in fitted.history.items()
    }
    return DistributedTrainingResult(model, history, steps_per_epoch, chief)
