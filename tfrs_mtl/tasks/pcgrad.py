"""PCGrad gradient surgery (Yu, Kumar, Gupta, Levine, Hausman and Finn, NeurIPS 2020,
"Gradient Surgery for Multi-Task Learning").

For each task i, its gradient g_i is projected onto the normal plane of every other task's
gradient g_j it conflicts with (negative dot product), visiting the other tasks in random
order:

    g_i <- g_i - (g_i . g_j) / ||g_j||^2 g_j    if g_i . g_j < 0

and the projected gradients are summed. Gradients are flattened across variables (the paper's
formulation); sparse embedding gradients are densified, which is fine for the table sizes of
this package but costs `[vocab, dim]` memory per task.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

GradientList = Sequence[tf.Tensor | tf.IndexedSlices | None]


def _flatten(gradients: GradientList, variables: Sequence[tf.Variable]) -> tf.Tensor:
    parts = []
    for gradient, variable in zip(gradients, variables, strict=True):
        if gradient is None:
            parts.append(tf.zeros([tf.size(variable)], variable.dtype))
        else:
            parts.append(tf.reshape(tf.convert_to_tensor(gradient), [-1]))
    return tf.concat(parts, axis=0)


def _unflatten(flat: tf.Tensor, variables: Sequence[tf.Variable]) -> list[tf.Tensor]:
    sizes = [tf.size(variable) for variable in variables]
    pieces = tf.split(flat, tf.stack(sizes), num=len(sizes))
    return [
        tf.reshape(piece, tf.shape(variable))
        for piece, variable in zip(pieces, variables, strict=True)
    ]


def project_conflicting_gradients(
    task_gradients: Sequence[GradientList],
    variables: Sequence[tf.Variable],
    shuffle: bool = True,
    seed: int | None = None,
) -> list[tf.Tensor]:
    """Combines per-task gradients with PCGrad.

    Args:
        task_gradients: For each task, its gradients (one per variable, `None` when the task
            does not touch the variable), e.g. from `tape.gradient(term_i, variables)`.
        variables: The variables the gradients belong to.
        shuffle: Visit the other tasks in random order (the paper); False keeps task order.
        seed: Optional op seed for the order.

    Returns:
        The combined gradient, one dense tensor per variable.
    """
    stacked = tf.stack([_flatten(gradients, variables) for gradients in task_gradients])
    num_tasks = len(task_gradients)
    squared_norms = tf.reduce_sum(stacked * stacked, axis=1)
    projected = []
    for i in range(num_tasks):
        gradient = stacked[i]
        order = (
            tf.random.shuffle(tf.range(num_tasks), seed=seed) if shuffle else tf.range(num_tasks)
        )
        for position in range(num_tasks):
            j = order[position]
            other = tf.gather(stacked, j)
            dot = tf.reduce_sum(gradient * other)
            conflict = tf.logical_and(tf.not_equal(j, i), dot < 0.0)
            scale = tf.where(conflict, dot / tf.maximum(tf.gather(squared_norms, j), 1e-20), 0.0)
            gradient = gradient - scale * other
        projected.append(gradient)
    return _unflatten(tf.add_n(projected), variables)
