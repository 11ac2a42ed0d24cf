"""`build_dataset`: a `tf.data` pipeline over in-memory feature arrays, with no per-example
Python: slices of the arrays, shuffled and batched in the TensorFlow runtime."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf


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
        shuffle: Reshuffle the examples at each epoch (seeded).
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
    tensors = {
        name: tf.constant(values.astype(str) if values.dtype == object else values)
        for name, values in ((name, np.asarray(values)) for name, values in arrays.items())
    }
    num_examples = next(iter(sizes.values()))
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        dataset = dataset.shuffle(num_examples, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if cache and not shuffle:
        dataset = dataset.cache()
    return dataset.prefetch(tf.data.AUTOTUNE)
