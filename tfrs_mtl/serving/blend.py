"""How stage 2 turns the scores of a query's candidates into one order: the blend.

Every score of a candidate enters on a comparable scale, the **standardised score**: over the
query's valid candidates (those retrieved and not excluded), each score has its mean
subtracted and is divided by its standard deviation (population; a score that does not vary
over the candidates contributes 0). Before that, probabilities (binary behaviours such as
click or purchase, the ESMM cascade's `p(click) * p(purchase | click)`, the engagement task)
become log-probabilities, so that their weights act as exponents of a product of
probabilities; the retrieval score (the towers' dot product, the softmax logit up to the
temperature) and predicted ratings enter as they are. The final score is
`sum_t weight_t * standardised_t`; the order it gives does not change when every weight is
multiplied by the same positive number, and `{"retrieval": 1}` is stage 1's order.

`standardised_scores` (numpy) and `standardised_scores_tf` (the serving graph) compute the
same thing; `tfrs_mtl.experiments` fits the weights offline with the first and serves them
with the second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

RETRIEVAL_SCORE = "retrieval"
#: Probabilities are floored here before their log is taken.
MIN_PROBABILITY = 1e-7
#: A standard deviation at or below this (over a query's candidates) counts as no variation.
MIN_STANDARD_DEVIATION = 1e-6


def standardised_scores(
    scores: np.ndarray, valid: np.ndarray, *, is_probability: bool = False
) -> np.ndarray:
    """`[num_queries, num_candidates]` scores standardised per query over its valid ones.

    Args:
        scores: `[num_queries, num_candidates]` one score (retrieval or one task) per candidate.
        valid: `[num_queries, num_candidates]` bool, the candidates that count.
        is_probability: the scores are probabilities: their log is standardised.

    Returns:
        float64 `[num_queries, num_candidates]`, 0 at invalid candidates.
    """
    values = np.asarray(scores, np.float64)
    valid = np.asarray(valid, bool)
    if is_probability:
        values = np.log(np.maximum(values, MIN_PROBABILITY))
    values = np.where(valid, values, 0.0)
    count = np.maximum(valid.sum(axis=1, keepdims=True), 1)
    mean = values.sum(axis=1, keepdims=True) / count
    centred = np.where(valid, values - mean, 0.0)
    deviation = np.sqrt((centred**2).sum(axis=1, keepdims=True) / count)
    varies = deviation > MIN_STANDARD_DEVIATION
    return np.where(varies, centred / np.where(varies, deviation, 1.0), 0.0)


def standardised_scores_tf(
    scores: tf.Tensor, valid: tf.Tensor, *, is_probability: bool = False
) -> tf.Tensor:
    """`standardised_scores` in TensorFlow (float32), for the serving graph."""
    values = tf.cast(scores, tf.float32)
    if is_probability:
        values = tf.math.log(tf.maximum(values, MIN_PROBABILITY))
    values = tf.where(valid, values, 0.0)
    count = tf.maximum(tf.reduce_sum(tf.cast(valid, tf.float32), axis=1, keepdims=True), 1.0)
    mean = tf.reduce_sum(values, axis=1, keepdims=True) / count
    centred = tf.where(valid, values - mean, 0.0)
    deviation = tf.sqrt(tf.reduce_sum(tf.square(centred), axis=1, keepdims=True) / count)
    varies = deviation > MIN_STANDARD_DEVIATION
    return tf.where(varies, centred / tf.where(varies, deviation, 1.0), 0.0)


def blend_names(ranking_task_names: Sequence[str]) -> tuple[str, ...]:
    """The scores a blend may weigh, in the serving graph's order: retrieval, then the tasks."""
    return (RETRIEVAL_SCORE, *ranking_task_names)


def checked_blend(
    blend: Mapping[str, float], ranking_task_names: Sequence[str]
) -> dict[str, float]:
    """`blend` as `{score: float weight}`, checked against the scores a recommender has.

    Raises:
        ValueError: an unknown score name, a weight that is not finite, or all weights zero.
        TypeError: a weight that is not a number.
    """
    names = blend_names(ranking_task_names)
    unknown = sorted(set(blend) - set(names))
    if unknown:
        raise ValueError(f"blend names unknown score(s) {unknown}; expected some of {names}")
    try:
        weights = {name: float(weight) for name, weight in blend.items()}
    except (TypeError, ValueError):
        raise TypeError(f"blend weights must be numbers, got {dict(blend)}") from None
    if not all(np.isfinite(list(weights.values()))) or not any(weights.values()):
        raise ValueError(f"blend weights must be finite and not all zero, got {dict(blend)}")
    return weights


def parse_blend(text: str) -> dict[str, float]:
    """`"engagement=1,rating=0.5"` -> `{"engagement": 1.0, "rating": 0.5}`.

    Raises:
        ValueError: naming the part that is not `name=number`, or a repeated name.
    """
    blend: dict[str, float] = {}
    for part in text.split(","):
        name, separator, value = part.partition("=")
        name = name.strip()
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not separator or not name or not np.isfinite(weight):
            shown = part if len(part) <= 40 else part[:40] + "..."
            raise ValueError(
                f"blend part {shown!r} is not name=number (e.g. engagement=1,rating=0.5)"
            )
        if name in blend:
            raise ValueError(f"blend names {name!r} twice")
        blend[name] = weight
    return blend


def format_blend(blend: Mapping[str, float]) -> str:
    """`{"engagement": 1.0, "rating": 0.5}` -> `"engagement=1,rating=0.5"`."""
    return ",".join(f"{name}={weight:g}" for name, weight in blend.items())
