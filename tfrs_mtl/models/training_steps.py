"""The three train steps of `MultiTaskModel`: weighted sum, GradNorm, PCGrad.

* `weighted_sum_step`: one gradient of `sum_i term_i` (fixed, uncertainty, DWA weights).
* `gradnorm_step` (Chen et al., ICML 2018): the same update, plus each task's unweighted
  gradient norm on the last shared layer (the towers' output layers), which drives the
  GradNorm update of the weights.
* `pcgrad_step` (Yu et al., NeurIPS 2020): one gradient per task's weighted term over all
  trainable variables, combined by gradient surgery.

Each returns the logs dict of the step (`loss`, `<task>/loss`, `<task>/weight`, metrics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import tensorflow as tf

from tfrs_mtl.models.cross_replica import scale_for_replicas
from tfrs_mtl.tasks import LossWeighting, combine_losses, project_conflicting_gradients


class TrainableMultiTaskModel(Protocol):
    """What the steps need from the model."""

    loss_weighting: LossWeighting
    optimizer: Any

    @property
    def trainable_variables(self) -> Sequence[tf.Variable]: ...

    def weighted_losses(
        self, inputs: Mapping[str, tf.Tensor], training: bool
    ) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]: ...

    def regularization_loss(self) -> tf.Tensor: ...

    def shared_layer_variables(self) -> list[tf.Variable]: ...

    def step_logs(
        self, loss: tf.Tensor, regularization_loss: tf.Tensor, training: bool
    ) -> dict[str, tf.Tensor]: ...


def _apply(model: TrainableMultiTaskModel, gradients: Sequence[Any]) -> None:
    # Variables no task reached in this batch get no gradient (not zeros: keeps Adam honest).
    pairs = [
        (gradient, variable)
        for gradient, variable in zip(gradients, model.trainable_variables, strict=True)
        if gradient is not None
    ]
    model.optimizer.apply_gradients(pairs)


def weighted_sum_step(
    model: TrainableMultiTaskModel, inputs: Mapping[str, tf.Tensor]
) -> dict[str, tf.Tensor]:
    with tf.GradientTape() as tape:
        losses, terms = model.weighted_losses(inputs, training=True)
        loss = combine_losses(terms)
        regularization_loss = model.regularization_loss()
        total_loss = loss + regularization_loss
        # Under a strategy the optimizer sums the replicas' gradients (no-op on one replica).
        replica_loss = scale_for_replicas(total_loss)
    _apply(model, tape.gradient(replica_loss, model.trainable_variables))
    model.loss_weighting.observe(losses)
    return model.step_logs(loss, regularization_loss, training=True)


def _norm(gradients: Sequence[Any], variables: Sequence[tf.Variable]) -> tf.Tensor:
    dense = [
        tf.zeros_like(variable) if gradient is None else tf.convert_to_tensor(gradient)
        for gradient, variable in zip(gradients, variables, strict=True)
    ]
    return tf.linalg.global_norm(dense)


def gradnorm_step(
    model: TrainableMultiTaskModel, inputs: Mapping[str, tf.Tensor]
) -> dict[str, tf.Tensor]:
    weighting: Any = model.loss_weighting
    with tf.GradientTape(persistent=True) as tape:
        losses, terms = model.weighted_losses(inputs, training=True)
        loss = combine_losses(terms)
        regularization_loss = model.regularization_loss()
        total_loss = loss + regularization_loss
    # Listed after the forward pass: layers create their variables on first call.
    shared = model.shared_layer_variables()
    norms = tf.stack(
        [_norm(tape.gradient(losses[name], shared), shared) for name in weighting.task_names]
    )
    _apply(model, tape.gradient(total_loss, model.trainable_variables))
    del tape
    weighted_norms = norms * weighting.weight_vector()
    norm_ratio = tf.reduce_max(weighted_norms) / tf.maximum(tf.reduce_min(weighted_norms), 1e-12)
    weighting.update(losses, norms)
    logs = model.step_logs(loss, regularization_loss, training=True)
    # max/min of the weighted task-gradient norms on the shared layer: GradNorm drives it to 1.
    logs["gradnorm/norm_ratio"] = norm_ratio
    return logs


def pcgrad_step(
    model: TrainableMultiTaskModel, inputs: Mapping[str, tf.Tensor]
) -> dict[str, tf.Tensor]:
    with tf.GradientTape(persistent=True) as tape:
        losses, terms = model.weighted_losses(inputs, training=True)
        loss = combine_losses(terms)
        regularization_loss = model.regularization_loss()
    variables = list(model.trainable_variables)
    task_gradients = [tape.gradient(terms[name], variables) for name in terms]
    combined = project_conflicting_gradients(task_gradients, variables)
    regularization_gradients = tape.gradient(regularization_loss, variables)
    del tape
    gradients = [
        gradient if extra is None else gradient + tf.convert_to_tensor(extra)
        for gradient, extra in zip(combined, regularization_gradients, strict=True)
    ]
    _apply(model, gradients)
    model.loss_weighting.observe(losses)
    return model.step_logs(loss, regularization_loss, training=True)
