"""`id_array`: request ids checked against the dtype a model or catalogue keys them by.

Callers pass ids as Python lists or numpy arrays of any dtype; TensorFlow's own conversion
errors ("Unsupported object type int") name neither the argument nor what it expects. The one
cast made silently is integers to their decimal text for string ids, since MovieLens-style ids
are numbers written as text; every other mismatch is a `TypeError` naming the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf


def _is_integer(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_text(value: Any) -> bool:
    return isinstance(value, str | bytes | np.str_ | np.bytes_)


def id_array(values: Any, dtype: tf.DType, what: str) -> np.ndarray:
    """`values` as a numpy array that `tf.constant(..., dtype)` accepts.

    Args:
        values: ids of any shape (e.g. `[batch_size]` or `[batch_size, num_ids]`).
        dtype: `tf.string` or an integer dtype.
        what: how messages name the argument, e.g. `"query feature 'user_id'"`.

    Returns:
        The ids, same shape: an object array of text for `tf.string` (integers become their
        decimal text), an integer array otherwise. An empty input keeps its shape.

    Raises:
        TypeError: an id is neither text nor an integer (for `tf.string`), or not an integer
            (for an integer dtype); the message names `what`, the value and the dtype.
    """
    try:
        array = np.asarray(values)
    except UnicodeDecodeError:  # text mixed with non-ASCII bytes: numpy decodes as ASCII
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    string = dtype == tf.string
    if array.size == 0:
        return np.empty(array.shape, dtype=object if string else dtype.as_numpy_dtype)
    if string and array.dtype.kind in "US":
        return array
    if not string and array.dtype.kind in "iu":
        return array
    flat = array.ravel()
    accepted = (lambda v: _is_text(v) or _is_integer(v)) if string else _is_integer
    if array.dtype.kind == "O":
        bad = [value for value in flat if not accepted(value)][:1]
    else:  # a numeric array: only integers for string ids, e.g. not floats or bools
        bad = [] if string and array.dtype.kind in "iu" else list(flat[:1])
    if bad:
        example = bad[0]
        expected = "string ids (text, or integers read as their decimal text)"
        if not string:
            expected = f"{dtype.name} ids (integers)"
        raise TypeError(f"{what} holds {example!r} ({type(example).__name__}); expected {expected}")
    if not string:
        return array.astype(dtype.as_numpy_dtype)
    converted = [str(value) if _is_integer(value) else value for value in flat]
    return np.array(converted, dtype=object).reshape(array.shape)
