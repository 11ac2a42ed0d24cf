"""How raw values become table keys: ids as strings, padding masks and text tokens.

Vocabulary fitting (eager, on numpy arrays) and the encoders (inside the graph) call the same
functions, so a value always maps to the same key at fit, train and serving time.

Ids may arrive as `tf.string`, integers, floats or bools; they are always compared as strings:
`42` (int64) and `b"42"` are the same id, `18.0` (float) is `"18"`, `True` is `"true"`.
"""

from __future__ import annotations

import tensorflow as tf

# Multi-valued features are padded with this (integers) or the empty string (strings).
INT_PADDING = -1
STRING_PADDING = ""

# Anything that is not a letter, a digit or whitespace separates tokens.
_PUNCTUATION = r"[^\pL\pN\s]+"


def to_key_strings(values: tf.Tensor | tf.RaggedTensor) -> tf.Tensor | tf.RaggedTensor:
    """Returns the string key of each value, same shape.

    Args:
        values: ids of any shape, dense or ragged, dtype string, integer, float or bool.

    Returns:
        `tf.string` keys: strings unchanged, integers in decimal, floats in their shortest
        decimal form (`18.0` -> `"18"`), bools as `"true"` / `"false"`.
    """
    if isinstance(values, tf.RaggedTensor):
        return tf.ragged.map_flat_values(to_key_strings, values)
    if values.dtype == tf.string:
        return values
    if values.dtype == tf.bool:
        return tf.where(values, tf.constant("true"), tf.constant("false"))
    if values.dtype.is_floating:
        return tf.strings.as_string(values, shortest=True)
    if values.dtype.is_integer:
        return tf.strings.as_string(values)
    raise TypeError(f"ids of dtype {values.dtype.name} cannot be used as table keys")


def dense_values(values: tf.Tensor | tf.RaggedTensor) -> tf.Tensor:
    """A multi-valued feature as a padded dense tensor `[batch_size, max_len]` (ragged rows
    padded with `INT_PADDING` / `STRING_PADDING`)."""
    if isinstance(values, tf.RaggedTensor):
        padding = STRING_PADDING if values.dtype == tf.string else INT_PADDING
        values = values.to_tensor(default_value=tf.cast(padding, values.dtype))
    return tf.convert_to_tensor(values)


def padding_mask(values: tf.Tensor) -> tf.Tensor:
    """True where a padded multi-valued entry holds a value (not -1 / not "")."""
    if values.dtype == tf.string:
        return tf.not_equal(values, STRING_PADDING)
    if values.dtype.is_integer:
        return tf.not_equal(values, tf.cast(INT_PADDING, values.dtype))
    return tf.ones_like(values, dtype=tf.bool)


def tokenize(text: tf.Tensor) -> tf.RaggedTensor:
    """Splits each text into normalized tokens.

    Lowercases (Unicode-aware), turns every run of punctuation into a space, and splits on
    whitespace: `"Toy Story (1995)"` -> `[b"toy", b"story", b"1995"]`.

    Args:
        text: `tf.string` of shape `[batch_size]`.

    Returns:
        `tf.RaggedTensor` of `tf.string`, shape `[batch_size, None]`.
    """
    lowered = tf.strings.lower(text, encoding="utf-8")
    spaced = tf.strings.regex_replace(lowered, _PUNCTUATION, " ")
    return tf.strings.split(spaced)
