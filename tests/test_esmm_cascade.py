"""EsmmCascade: exact values on hand-computed logits; p_ctcvr <= p_click even at extremes."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tfrs_mtl.layers import EsmmCascade


def test_exact_values() -> None:
    outputs = EsmmCascade()((tf.constant([0.0, math.log(4.0)]), tf.constant([math.log(3.0), 0.0])))
    np.testing.assert_allclose(outputs["p_click"].numpy(), [0.5, 0.8], rtol=1e-6)
    np.testing.assert_allclose(outputs["p_cvr"].numpy(), [0.75, 0.5], rtol=1e-6)
    np.testing.assert_allclose(outputs["p_ctcvr"].numpy(), [0.375, 0.4], rtol=1e-6)
    np.testing.assert_allclose(
        outputs["log_p_ctcvr"].numpy(), [math.log(0.375), math.log(0.4)], rtol=1e-6
    )
    np.testing.assert_allclose(
        outputs["ctcvr_logit"].numpy(), [math.log(0.375 / 0.625), math.log(0.4 / 0.6)], rtol=1e-5
    )


def test_extreme_logits_stay_ordered_and_finite() -> None:
    click = tf.constant([100.0, -100.0, 100.0, -1e4, 30.0, 1e4, 0.0])
    conversion = tf.constant([100.0, 100.0, -100.0, 50.0, -30.0, 1e4, -1e4])
    outputs = EsmmCascade()((click, conversion))
    p_click, p_ctcvr = outputs["p_click"].numpy(), outputs["p_ctcvr"].numpy()
    assert (p_ctcvr <= p_click).all()
    assert (p_ctcvr >= 0).all()
    for key in ("log_p_click", "log_p_ctcvr", "ctcvr_logit"):
        assert np.isfinite(outputs[key].numpy()).all(), key
    np.testing.assert_allclose(outputs["log_p_ctcvr"].numpy()[3], -1e4, rtol=1e-6)
    np.testing.assert_allclose(outputs["log_p_ctcvr"].numpy()[6], -1e4 + math.log(0.5), rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4, width=32), min_size=1, max_size=8),
    st.lists(st.floats(-1e4, 1e4, width=32), min_size=8, max_size=8),
)
def test_ctcvr_never_exceeds_ctr(click: list[float], conversion: list[float]) -> None:
    outputs = EsmmCascade()((tf.constant(click), tf.constant(conversion[: len(click)])))
    assert (outputs["p_ctcvr"].numpy() <= outputs["p_click"].numpy()).all()
    assert (outputs["log_p_ctcvr"].numpy() <= outputs["log_p_click"].numpy()).all()


def test_config_round_trip() -> None:
    layer = EsmmCascade(name="funnel")
    rebuilt = EsmmCascade.from_config(layer.get_config())
    inputs = (tf.constant([[1.0]]), tf.constant([[-2.0]]))
    assert rebuilt.name == "funnel"
    np.testing.assert_array_equal(rebuilt(inputs)["p_ctcvr"].numpy(), layer(inputs)["p_ctcvr"])
