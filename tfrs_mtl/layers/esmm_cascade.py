"""`EsmmCascade`: p(conversion) = p(click) * p(conversion | click), over all impressions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

# Keeps the CTCVR logit finite when both probabilities round to 1 in float32.
_MIN_LOG_COMPLEMENT = -1e-30


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class EsmmCascade(tf.keras.layers.Layer):
    """Entire Space Multi-task Model cascade.

    Ma et al., "Entire Space Multi-Task Model: An Effective Approach for Estimating
    Post-Click Conversion Rate", SIGIR 2018. The CVR head is never trained on clicked
    impressions alone; its output enters the loss only through
    `p_ctcvr = p_click * p_cvr`, supervised on every impression, which removes the sample
    selection bias. `p_ctcvr <= p_click` holds exactly in floating point (a product with a
    factor in [0, 1] never rounds above the other factor).

    Call:
        inputs: `(click_logits, conversion_logits)`, same shape (e.g. `[batch_size]` or
            `[batch_size, 1]`): the CTR head's logit and the CVR (conversion given click)
            head's logit.

    Returns:
        dict with, all in the inputs' shape:
        `p_click`, `p_cvr`, `p_ctcvr` (probabilities),
        `log_p_click`, `log_p_ctcvr` (`log_sigmoid` sums: finite for any finite logits),
        `ctcvr_logit` (`log(p_ctcvr / (1 - p_ctcvr))`, for a logit-based cross-entropy).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def call(self, inputs: Sequence[tf.Tensor]) -> dict[str, tf.Tensor]:
        click_logits, conversion_logits = inputs
        p_click = tf.sigmoid(click_logits)
        p_cvr = tf.sigmoid(conversion_logits)
        log_p_click = tf.math.log_sigmoid(click_logits)
        log_p_ctcvr = log_p_click + tf.math.log_sigmoid(conversion_logits)
        # log(1 - p) = log(-expm1(log p)), accurate where p is near 1 and near 0.
        log_complement = tf.math.log(-tf.math.expm1(tf.minimum(log_p_ctcvr, _MIN_LOG_COMPLEMENT)))
        return {
            "p_click": p_click,
            "p_cvr": p_cvr,
            "p_ctcvr": p_click * p_cvr,
            "log_p_click": log_p_click,
            "log_p_ctcvr": log_p_ctcvr,
            "ctcvr_logit": log_p_ctcvr - log_complement,
        }

    def get_config(self) -> dict[str, Any]:
        return super().get_config()
