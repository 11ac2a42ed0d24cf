"""What the model's losses need to stay exact under a `tf.distribute` strategy.

Under `MirroredStrategy` / `MultiWorkerMirroredStrategy` each replica sees `1/R` of the global
batch, computes its losses as means over its own rows, and the optimizer SUMS the replicas'
gradients. Two corrections make the update equal to single-process training on the global
batch:

* `scale_for_replicas`: divide the replica's loss by `R` before differentiating (what Keras
  does for losses given to `compile`), so the summed gradient is the gradient of the
  global-batch mean.
* `gather_candidates`: in-batch retrieval negatives come from the whole global batch, not only
  the replica's share: every replica all-gathers the candidate embeddings (and their ids and
  sampling probabilities), its own rows first so that TFRS's diagonal labels still mark each
  query's positive. The all-gather's gradient sums the other replicas' contributions back to
  the replica that computed each candidate.

Outside a strategy (one replica) both are the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf


def _num_replicas(context: tf.distribute.ReplicaContext | None) -> int:
    return 1 if context is None else int(context.num_replicas_in_sync)


def scale_for_replicas(loss: tf.Tensor) -> tf.Tensor:
    """`loss / num_replicas_in_sync` inside a replica context; `loss` otherwise.

    Args:
        loss: A replica's scalar loss, a mean over its share of the global batch.
    """
    num_replicas = _num_replicas(tf.distribute.get_replica_context())
    return loss if num_replicas == 1 else loss / float(num_replicas)


def gather_candidates(tensors: Sequence[tf.Tensor | None]) -> list[tf.Tensor | None]:
    """All-gathers per-row candidate tensors across replicas, this replica's rows first.

    Args:
        tensors: Tensors with the replica's candidates on axis 0 (`[local_batch, ...]` each,
            e.g. embeddings `[local_batch, dim]`, ids `[local_batch]`); `None` entries pass
            through.

    Returns:
        The same tensors over the global batch (`[global_batch, ...]`), rotated so that rows
        `0..local_batch-1` are this replica's own. Unchanged with one replica.
    """
    context = tf.distribute.get_replica_context()
    if _num_replicas(context) == 1:
        return list(tensors)
    assert context is not None
    sizes = context.all_gather(tf.shape(next(t for t in tensors if t is not None))[:1], axis=0)
    start = tf.reduce_sum(sizes[: context.replica_id_in_sync_group])
    # One all-gather per tensor: the gradient of a batched one sums every output's gradient
    # in one all-reduce, which fails on the ids' (int64) entry. A roll, unlike a gather,
    # keeps the embeddings' gradient dense.
    return [
        None if tensor is None else tf.roll(context.all_gather(tensor, axis=0), -start, axis=0)
        for tensor in tensors
    ]
