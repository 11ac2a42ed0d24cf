"""Tower input dropout in training steps (`FeatureConfig.dropout`).

- `multi_hot`: each value is left out of a training step with the feature's rate, drawn
  afresh every step, so that the query tower learns to predict a user's items from random
  parts of their history instead of memorising it: the input denoising of Mult-DAE (Liang et
  al., "Variational Autoencoders for Collaborative Filtering", WWW 2018). A dropped value
  becomes padding (-1 or ""), so the pooled mean is taken over the kept values.
- `id` / `categorical`: the whole value of a row becomes padding, which looks up as an
  unknown value (the table's OOV row): the tower cannot memorise a user from their id and
  learns the embedding it gives users it has never seen.

Only the towers read the dropped values (`TowerInputDropout`); labels and the rating biases
read the batch as is. The catalogue the full-catalogue retrieval softmax scores is read the
same way (`TowerInputDropout.catalogue`): a dropped item id there makes the item a candidate
embedded from its attributes alone, what an item absent from training is when served.
Evaluation, export and serving read every value.

The draws are stateless, keyed by `(model seed, feature, optimizer step, replica)`: a run resumed
from a checkpoint draws the same masks as an uninterrupted one, and the same seed and config
give the same run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from tfrs_mtl.features import FeatureSpec
from tfrs_mtl.features.raw_values import INT_PADDING, STRING_PADDING

_MAX_REPLICAS = 4_096
#: Offset of the catalogue's draws from the batch's (`TowerInputDropout.catalogue`).
_CATALOGUE_STREAM = 7_919


def dropout_features(spec: FeatureSpec) -> dict[str, float]:
    """Feature name -> dropout rate, for the spec's features with dropout."""
    return {feature.name: feature.dropout for feature in spec.features if feature.dropout > 0}


def drop_values(
    features: Mapping[str, tf.Tensor | tf.RaggedTensor],
    rates: Mapping[str, float],
    seed: int,
    step: tf.Tensor,
) -> dict[str, tf.Tensor | tf.RaggedTensor]:
    """A copy of `features` with each value of the `rates` features dropped at its rate.

    Args:
        features: the raw feature dict of a batch; not mutated. Dense multi-hot features are
            `[batch_size, max_len]` padded with -1 (integers) or "" (strings); ragged ones
            `[batch_size, None]`; id features `[batch_size]` (every value of a row is dropped
            alike).
        rates: feature name -> probability of dropping each value (`dropout_features`).
        seed: the model's seed.
        step: the optimizer's step counter (int scalar): a new mask every step.

    Returns:
        The feature dict with the same shapes and dtypes: dropped dense values become
        padding, dropped ragged values are removed from their rows.

    Example:
        >>> drop_values({"user_history": tf.constant([[3, 5, -1]])}, {"user_history": 0.5},
        ...             seed=42, step=tf.constant(0))  # doctest: +SKIP
        {'user_history': <tf.Tensor: shape=(1, 3), ... numpy=array([[ 3, -1, -1]])>}
    """
    dropped = dict(features)
    for position, name in enumerate(sorted(rates)):
        if name not in features:
            continue
        values = features[name]
        key = step_seed(seed * 1_000 + position, step)
        if isinstance(values, tf.RaggedTensor):
            keep = tf.random.stateless_uniform(tf.shape(values.flat_values), key) >= rates[name]
            dropped[name] = tf.ragged.boolean_mask(values, values.with_flat_values(keep))
        else:
            values = tf.convert_to_tensor(values)
            keep = tf.random.stateless_uniform(tf.shape(values), key) >= rates[name]
            padding = STRING_PADDING if values.dtype == tf.string else INT_PADDING
            dropped[name] = tf.where(keep, values, tf.cast(padding, values.dtype))
    return dropped


def step_seed(stream: int, step: tf.Tensor) -> tf.Tensor:
    """The seed `[2]` int64 of a stateless draw: a stream (which draw: the model's seed and
    a position), the optimizer step, and the replica (under a distribution strategy each
    replica draws its own), so that a run resumed from a checkpoint draws exactly what an
    uninterrupted one does."""
    context = tf.distribute.get_replica_context()
    replica = context.replica_id_in_sync_group if context is not None else 0
    draw = tf.cast(step, tf.int64) * _MAX_REPLICAS + tf.cast(replica, tf.int64)
    return tf.stack([tf.constant(stream, tf.int64), draw], axis=0)


class TowerInputDropout:
    """What a model's towers read: in training steps, the batch after `drop_values`.

    Args:
        spec: The model's features (their `dropout` rates).
        seed: The model's seed.
    """

    def __init__(self, spec: FeatureSpec, seed: int) -> None:
        self.rates = dropout_features(spec)
        self.seed = seed
        # A tower whose features lose nothing reads the batch as is.
        self.drops_side = {
            side: any(f.name in self.rates for f in spec.side_features(side))
            for side in ("query", "candidate")
        }

    def __call__(
        self, features: Mapping[str, tf.Tensor], training: bool, optimizer: Any
    ) -> Mapping[str, tf.Tensor]:
        """`features` itself outside training steps or without dropout; else the batch with
        fresh values dropped, drawn for `optimizer.iterations` (step 0 without an optimizer)."""
        if not training or not self.rates:
            return features
        step = optimizer.iterations if optimizer is not None else tf.constant(0, tf.int64)
        return drop_values(features, self.rates, self.seed, step)

    def catalogue(
        self, features: Mapping[str, tf.Tensor], training: bool, optimizer: Any
    ) -> Mapping[str, tf.Tensor]:
        """As `__call__`, for the catalogue's candidate features (one row per item): drawn
        from a stream of their own, so a catalogue row's draw does not repeat the batch row's
        at the same position."""
        if not training or not self.drops_side["candidate"]:
            return features
        step = optimizer.iterations if optimizer is not None else tf.constant(0, tf.int64)
        return drop_values(features, self.rates, self.seed + _CATALOGUE_STREAM, step)
