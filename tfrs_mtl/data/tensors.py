"""From frames to tensors: TFDS-like `tf.data` examples and dense, padded feature arrays.

`as_tf_dataset` gives what `tfds.load("movielens/...")` gives (a dict of scalars per example,
`movie_genres` a variable-length int64 vector), so that TFRS tutorial code runs unchanged.
`to_feature_arrays` gives dense numpy arrays (multi-valued columns padded), which is what
model and training code consume.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


def is_list_column(column: pd.Series) -> bool:
    """True for a multi-valued column (`list<...>` Arrow dtype or numpy arrays per row)."""
    if isinstance(column.dtype, pd.ArrowDtype):
        return pa.types.is_list(column.dtype.pyarrow_dtype) or pa.types.is_large_list(
            column.dtype.pyarrow_dtype
        )
    return column.dtype == object and len(column) > 0 and isinstance(column.iloc[0], np.ndarray)


def list_column_parts(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A multi-valued column as flat values `[total]` and row lengths `[num_rows]` (int64)."""
    if isinstance(column.dtype, pd.ArrowDtype):
        array = pa.chunked_array(column.array._pa_array).combine_chunks()
        if isinstance(array, pa.ChunkedArray):  # an empty column
            array = pa.array([], column.dtype.pyarrow_dtype)
        values = array.flatten().to_numpy(zero_copy_only=False)
        lengths = array.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
        return values.astype(np.int64, copy=False), lengths.astype(np.int64)
    rows = column.tolist()
    lengths = np.fromiter((len(row) for row in rows), np.int64, len(rows))
    values = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return values.astype(np.int64, copy=False), lengths


def _column_values(column: pd.Series) -> np.ndarray:
    if column.dtype == "str" or column.dtype == object:
        return column.to_numpy(dtype=object)
    return column.to_numpy()


def to_feature_arrays(frame: pd.DataFrame, pad_value: int = -1) -> dict[str, np.ndarray]:
    """Dense numpy arrays, one per column, ready for `tf.constant` or Keras `fit`.

    Args:
        frame: e.g. `MovieLensData.ratings` or a split of it.
        pad_value: fills multi-valued rows shorter than the longest.

    Returns:
        Name -> array: scalars `[num_rows]` keep their dtype (text as an object array of
        `str`); multi-valued columns (e.g. `movie_genres`) are int64 `[num_rows, max_length]`,
        padded at the end with `pad_value`.

    Example:
        >>> arrays = to_feature_arrays(data.ratings)  # doctest: +SKIP
        >>> arrays["movie_genres"].shape  # doctest: +SKIP
        (100000, 6)
    """
    arrays: dict[str, np.ndarray] = {}
    for name in frame.columns:
        column = frame[name]
        if not is_list_column(column):
            arrays[name] = _column_values(column)
            continue
        values, lengths = list_column_parts(column)
        width = int(lengths.max()) if len(lengths) else 0
        dense = np.full((len(lengths), width), pad_value, dtype=np.int64)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        starts = np.cumsum(lengths) - lengths
        dense[rows, np.arange(len(values)) - np.repeat(starts, lengths)] = values
        arrays[name] = dense
    return arrays


def as_tf_dataset(frame: pd.DataFrame) -> Any:
    """A `tf.data.Dataset` of TFDS-like examples, one per row, in the frame's order.

    Args:
        frame: e.g. `MovieLensData.ratings`.

    Returns:
        A dataset whose elements are dicts of scalar tensors, except multi-valued columns
        (`movie_genres`), which are int64 vectors of shape `[None]` as in TFDS. Text columns are
        `tf.string`, `user_rating` float32, `timestamp` int64, `user_gender` bool.

    Example:
        >>> ratings = as_tf_dataset(load_movielens("movielens-100k").ratings)  # doctest: +SKIP
        >>> ratings.map(lambda x: {"user_id": x["user_id"], "title": x["movie_title"]})
    """
    import tensorflow as tf  # only this path needs TensorFlow

    tensors: dict[str, Any] = {}
    for name in frame.columns:
        column = frame[name]
        if is_list_column(column):
            values, lengths = list_column_parts(column)
            tensors[name] = tf.RaggedTensor.from_row_lengths(values, lengths)
        elif column.dtype == "str" or column.dtype == object:
            tensors[name] = tf.constant(column.to_numpy(dtype=object), dtype=tf.string)
        else:
            tensors[name] = tf.constant(column.to_numpy())
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if not any(isinstance(tensor, tf.RaggedTensor) for tensor in tensors.values()):
        return dataset
    # Slices of a ragged tensor are typed as rank-0 ragged; TFDS types them as plain
    # `TensorSpec([None])`, which an identity map restores (inside the graph, no Python).
    return dataset.map(lambda example: example)
