"""Clustered pooling of a long history's identity embedding (`TowerConfig.history_clusters`).

A query tower with an `identity_feature` history scores a candidate by the cosine between the
candidate's row and the mean of the history's rows. A long history mixes several interests,
and its mean is dominated by the tightest of them. For such a history the identity
embedding is instead `sum_k w_k c_k`: the unit directions `c_k` of a spherical k-means of the
history's L2-normalised rows, weighted by each cluster's share `w_k` of the history. Every
interest then counts by its size, not by how tight it is, and the part's norm (below 1) lowers
the weight of the history's cosine against the rest of the query for such users.

It is one vector per user, so ScaNN serves it as any other query. It is deterministic: the
first centroid is the history item closest to the history's mean direction, each next one the
item farthest from the centroids chosen so far, then a fixed number of k-means steps.
"""

from __future__ import annotations

import tensorflow as tf

#: k-means steps after the deterministic initialisation.
ITERATIONS = 20


def clustered_directions(
    rows: tf.Tensor, mask: tf.Tensor, num_clusters: int, iterations: int = ITERATIONS
) -> tf.Tensor:
    """`sum_k w_k c_k` of each batch row's history: `[batch, length, dim]` -> `[batch, dim]`.

    Args:
        rows: float `[batch, length, dim]` the history's embedding rows (any norm).
        mask: bool `[batch, length]`: which positions hold a value (False: padding).
        num_clusters: K >= 1 (1 gives the mean of the L2-normalised rows, normalised).
        iterations: k-means steps.

    Returns:
        float `[batch, dim]`, of norm <= 1; zeros for an empty history.
    """
    present = tf.cast(mask, rows.dtype)[..., tf.newaxis]
    unit = tf.math.l2_normalize(rows, axis=-1) * present
    mean = tf.math.l2_normalize(tf.reduce_sum(unit, axis=1), axis=-1)

    def similarities(direction: tf.Tensor) -> tf.Tensor:
        return tf.einsum("bld,bd->bl", unit, direction)

    # Cosines lie in [-1, 1]: +-3 keeps padding out of the argmax / argmin.
    first = tf.argmax(tf.where(mask, similarities(mean), -3.0), axis=1)
    chosen = [tf.gather(unit, first, batch_dims=1)]
    nearest = similarities(chosen[0])
    for _ in range(num_clusters - 1):
        farthest = tf.argmin(tf.where(mask, nearest, 3.0), axis=1)
        chosen.append(tf.gather(unit, farthest, batch_dims=1))
        nearest = tf.maximum(nearest, similarities(chosen[-1]))
    centroids = tf.stack(chosen, axis=1)  # [batch, K, dim]

    def assignments(centroids: tf.Tensor) -> tf.Tensor:
        scores = tf.einsum("bld,bkd->blk", unit, centroids)
        return tf.one_hot(tf.argmax(scores, axis=-1), num_clusters, dtype=rows.dtype) * present

    for _ in range(iterations):
        assigned = assignments(centroids)
        sums = tf.einsum("blk,bld->bkd", assigned, unit)
        occupied = tf.reduce_sum(assigned, axis=1)[..., tf.newaxis] > 0
        # An empty cluster keeps its centroid.
        centroids = tf.where(occupied, tf.math.l2_normalize(sums, axis=-1), centroids)
    sizes = tf.reduce_sum(assignments(centroids), axis=1)  # [batch, K]
    shares = tf.math.divide_no_nan(sizes, tf.reduce_sum(sizes, axis=1, keepdims=True))
    return tf.einsum("bk,bkd->bd", shares, centroids)
