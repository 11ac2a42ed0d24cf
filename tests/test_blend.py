"""The served blend: standardised scores (numpy and TensorFlow agree), parsing, checking."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.serving.blend import (
    checked_blend,
    format_blend,
    parse_blend,
    standardised_scores,
    standardised_scores_tf,
)

SCORES = np.array([[1.0, 2.0, 3.0, 100.0], [0.2, 0.2, 0.2, 0.5], [0.1, 0.4, 0.9, 0.3]])
VALID = np.array([[True, True, True, False], [True, True, True, False], [True] * 4])


def test_standardised_scores_by_hand() -> None:
    found = standardised_scores(SCORES, VALID)
    # Row 0: mean 2, population std sqrt(2/3); the invalid 100 is ignored and gets 0.
    np.testing.assert_allclose(found[0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5), 0.0])
    # Row 1: no variation among the valid candidates: every score counts 0.
    np.testing.assert_array_equal(found[1], np.zeros(4))
    row = np.log(SCORES[2])
    np.testing.assert_allclose(
        standardised_scores(SCORES, VALID, is_probability=True)[2],
        (row - row.mean()) / row.std(),
    )


@pytest.mark.parametrize("is_probability", [False, True])
def test_numpy_and_tensorflow_standardise_alike(is_probability: bool) -> None:
    expected = standardised_scores(SCORES, VALID, is_probability=is_probability)
    found = standardised_scores_tf(
        tf.constant(SCORES, tf.float32), tf.constant(VALID), is_probability=is_probability
    )
    np.testing.assert_allclose(found.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_parse_and_format_round_trip() -> None:
    blend = parse_blend("engagement=1, rating=0.5,retrieval=2")
    assert blend == {"engagement": 1.0, "rating": 0.5, "retrieval": 2.0}
    assert parse_blend(format_blend(blend)) == blend


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engagement", "is not name=number"),
        ("rating=x", "is not name=number"),
        ("rating=inf", "is not name=number"),
        ("=1", "is not name=number"),
        ("rating=1,rating=2", "names 'rating' twice"),
    ],
)
def test_parse_refuses_what_is_not_a_blend(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_blend(text)


def test_parse_cuts_a_long_bad_part() -> None:
    with pytest.raises(ValueError) as error:
        parse_blend("x" * 10_000)
    assert len(str(error.value)) < 200


def test_checked_blend_names_the_scores_it_knows() -> None:
    assert checked_blend({"rating": 1, "retrieval": 0}, ("rating",)) == {
        "rating": 1.0,
        "retrieval": 0.0,
    }
    with pytest.raises(ValueError, match=r"unknown score\(s\) \['click'\]"):
        checked_blend({"click": 1.0}, ("rating",))
    with pytest.raises(ValueError, match="not all zero"):
        checked_blend({"rating": 0.0}, ("rating",))
    with pytest.raises(TypeError, match="must be numbers"):
        checked_blend({"rating": "high"}, ("rating",))
