"""`build_dataset`: a `tf.data` pipeline over in-memory feature arrays, with no per-example
work at all: each batch is one vectorised `tf.gather` of its rows from every array.

Slicing the arrays into examples and re-batching them (`from_tensor_slices(...).shuffle(n)
.batch(b)`) costs a few microseconds per example and feature, and a shuffle buffer of every
example (hundreds of bytes each): on 10M rows that is minutes per epoch and gigabytes of
memory. Here an epoch shuffles one `[num_examples]` int64 permutation instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf


def _tensor(values: np.ndarray) -> tf.Tensor:
    if values.dtype != object:
        return tf.constant(values)
    try:
        # Straight from the Python strings: `astype(str)` first would build a fixed-width
        # unicode copy (4 bytes per character of the longest value) and take ~4x longer.
        return tf.constant(values, tf.string)
    except (TypeError, ValueError):  # mixed objects (e.g. ints among strings)
        return tf.constant(values.astype(str))


def _permutation_batches(num_examples: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """Row indices `[batch_size]` of a fresh seeded permutation at every iteration (epoch)."""
    rows = tf.range(num_examples, dtype=tf.int64)

    @tf.autograph.experimental.do_not_convert  # no control flow to convert
    def batches(epoch_seed: tf.Tensor) -> tf.data.Dataset:
        key = tf.stack([tf.constant(seed, tf.int64), epoch_seed])
        order = tf.random.experimental.stateless_shuffle(rows, seed=key)
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    # One random number per iteration, the same sequence in every process for a given seed.
    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    return epoch_seeds.flat_map(batches)


def _range_batches(num_examples: int, batch_size: int) -> tf.data.Dataset:
    """Row indices of consecutive batches, in order."""

    @tf.autograph.experimental.do_not_convert
    def rows(start: tf.Tensor) -> tf.Tensor:
        return tf.range(start, tf.minimum(start + batch_size, num_examples))

    return tf.data.Dataset.range(0, num_examples, batch_size).map(rows)


def build_dataset(
    arrays: Mapping[str, np.ndarray],
    batch_size: int,
    shuffle: bool = True,
    seed: int = 42,
    cache: bool = True,
) -> tf.data.Dataset:
    """Batches of the flat feature dict the model consumes.

    Args:
        arrays: Feature (and label) name -> array `[num_examples, ...]`; object arrays of
            `str` become `tf.string`.
        batch_size: Examples per batch (the last batch may be smaller).
        shuffle: Reshuffle the examples at each epoch (seeded: the same batches in every
            run with the same seed).
        seed: Shuffle seed.
        cache: Cache the batches in memory when not shuffling (evaluation sets).

    Returns:
        A `tf.data.Dataset` of `dict[str, Tensor]` with leading dimension `batch_size`.

    Example:
        >>> train = build_dataset(train_arrays, batch_size=4096, shuffle=True)
    """
    if not arrays:
        raise ValueError("build_dataset: no arrays given")
    sizes = {name: len(values) for name, values in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"build_dataset: arrays differ in length: {sizes}")
    tensors = {name: _tensor(np.asarray(values)) for name, values in arrays.items()}
    num_examples = next(iter(sizes.values()))
    indices = (
        _permutation_batches(num_examples, batch_size, seed)
        if shuffle
        else _range_batches(num_examples, batch_size)
    )

    @tf.autograph.experimental.do_not_convert
    def gather(rows: tf.Tensor) -> dict[str, tf.Tensor]:
        return {name: tf.gather(tensor, rows) for name, tensor in tensors.items()}

    dataset = indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # flat_map hides the number of batches; Keras progress bars and callbacks want it.
    num_batches = -(-num_examples // batch_size)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(num_batches))
    if cache and not shuffle:
        dataset = dataset.cache()
    return dataset.prefetch(tf.data.AUTOTUNE)
