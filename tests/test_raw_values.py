"""Raw values -> table keys: one key per value whatever its dtype; tokens; padding."""

from __future__ import annotations

import tensorflow as tf

from tfrs_mtl.features import to_key_strings, tokenize
from tfrs_mtl.features.raw_values import padding_mask


def test_int_and_string_ids_give_the_same_key() -> None:
    as_int = to_key_strings(tf.constant([42, 7], tf.int64))
    as_str = to_key_strings(tf.constant(["42", "7"]))
    assert as_int.numpy().tolist() == as_str.numpy().tolist() == [b"42", b"7"]


def test_float_bool_and_ragged_keys() -> None:
    assert to_key_strings(tf.constant([18.0, 2.5])).numpy().tolist() == [b"18", b"2.5"]
    assert to_key_strings(tf.constant([True, False])).numpy().tolist() == [b"true", b"false"]
    ragged = to_key_strings(tf.ragged.constant([[1, 2], [3]], dtype=tf.int64))
    assert ragged.to_list() == [[b"1", b"2"], [b"3"]]


def test_tokenize_lowercases_strips_punctuation_and_splits() -> None:
    tokens = tokenize(tf.constant(["Toy Story (1995)", "  Se7en,  L'Amour!", ""]))
    assert tokens.to_list() == [[b"toy", b"story", b"1995"], [b"se7en", b"l", b"amour"], []]


def test_padding_mask() -> None:
    assert padding_mask(tf.constant([[3, -1]], tf.int64)).numpy().tolist() == [[True, False]]
    assert padding_mask(tf.constant([["a", ""]])).numpy().tolist() == [[True, False]]
