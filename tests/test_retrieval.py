"""`RetrievalTask`: in-batch, logQ-corrected and full-catalogue losses against numpy."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfrs_mtl.tasks import RetrievalTask

QUERIES = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
CANDIDATES = np.array([[2.0, 0.0], [0.0, -1.0], [0.5, 0.5]], np.float32)


def _softmax_cross_entropy(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(scores)), positive]


def test_in_batch_loss_is_the_mean_softmax_cross_entropy() -> None:
    loss = RetrievalTask(temperature=0.5)(tf.constant(QUERIES), tf.constant(CANDIDATES))
    scores = QUERIES @ CANDIDATES.T / 0.5
    np.testing.assert_allclose(
        float(loss), _softmax_cross_entropy(scores, np.arange(3)).mean(), rtol=1e-5
    )


def test_logq_correction_and_sample_weights() -> None:
    probability = np.array([0.5, 0.1, 0.2], np.float32)
    weights = np.array([1.0, 0.0, 2.0], np.float32)
    loss = RetrievalTask()(
        tf.constant(QUERIES),
        tf.constant(CANDIDATES),
        candidate_sampling_probability=tf.constant(probability),
        sample_weight=tf.constant(weights),
    )
    scores = QUERIES @ CANDIDATES.T - np.log(probability)[None, :]
    expected = (_softmax_cross_entropy(scores, np.arange(3)) * weights).sum() / 3
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_accidental_hits_are_removed() -> None:
    ids = tf.constant(["a", "b", "a"])  # rows 0 and 2 share a positive
    loss = RetrievalTask(remove_accidental_hits=True)(
        tf.constant(QUERIES), tf.constant(CANDIDATES), candidate_ids=ids
    )
    scores = QUERIES @ CANDIDATES.T
    scores[0, 2] = scores[2, 0] = -1e30
    np.testing.assert_allclose(
        float(loss), _softmax_cross_entropy(scores, np.arange(3)).mean(), rtol=1e-5
    )


def test_full_catalogue_loss_is_the_softmax_over_the_catalogue() -> None:
    catalogue = np.array([[2.0, 0.0], [0.0, -1.0], [0.5, 0.5], [1.0, -1.0]], np.float32)
    positives = np.array([2, 0, 3])
    loss = RetrievalTask().full_catalogue_loss(
        tf.constant(QUERIES),
        tf.constant(catalogue[positives]),
        tf.constant(positives),
        tf.constant(catalogue),
    )
    expected = _softmax_cross_entropy(QUERIES @ catalogue.T, positives).mean()
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_config_round_trip() -> None:
    task = RetrievalTask(temperature=0.1, num_hard_negatives=5, name="retrieval")
    clone = RetrievalTask.from_config(task.get_config())
    assert clone.get_config() == task.get_config()


def test_full_catalogue_with_an_unseen_positive_and_temperature() -> None:
    catalogue = np.array([[2.0, 0.0], [0.0, -1.0]], np.float32)
    positive = np.array([[1.0, 1.0]], np.float32)  # not in the catalogue (index -1)
    loss = RetrievalTask(temperature=0.5).full_catalogue_loss(
        tf.constant(QUERIES[:1]), tf.constant(positive), tf.constant([-1]), tf.constant(catalogue)
    )
    scores = np.concatenate([QUERIES[:1] @ positive.T, QUERIES[:1] @ catalogue.T], axis=1) / 0.5
    shifted = scores - scores.max()
    expected = -(shifted[0, 0] - np.log(np.exp(shifted).sum()))
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_multi_positive_loss_is_the_mean_log_softmax_over_each_rows_positives() -> None:
    catalogue = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]], np.float32)
    # Row 0: {0, 2} (2 repeated counts once); row 1: {1} (-1 is outside the catalogue);
    # row 2: no catalogue positive, so it adds 0.
    positives = tf.ragged.constant([[0, 2, 2], [1, -1], [-1]], dtype=tf.int64)
    weights = np.array([1.0, 3.0, 1.0], np.float32)
    loss = RetrievalTask(temperature=0.5).multi_positive_loss(
        tf.constant(QUERIES), positives, tf.constant(catalogue), tf.constant(weights)
    )
    scores = QUERIES @ catalogue.T / 0.5
    row0 = (_softmax_cross_entropy(scores[:1], [0]) + _softmax_cross_entropy(scores[:1], [2])) / 2
    row1 = _softmax_cross_entropy(scores[1:2], [1])
    expected = (row0 * 1.0 + row1 * 3.0) / 3
    np.testing.assert_allclose(float(loss), float(expected[0]), rtol=1e-5)


def test_multi_positive_gradients_match_automatic_differentiation() -> None:
    rng = np.random.default_rng(0)
    queries = tf.Variable(rng.normal(size=(5, 3)).astype(np.float32))
    catalogue = tf.Variable(rng.normal(size=(7, 3)).astype(np.float32))
    positives = tf.ragged.constant([[0, 3], [6], [-1], [1, 2, 5], [4, 4]], dtype=tf.int64)
    weights = tf.constant([1.0, 2.0, 1.0, 0.5, 1.0])
    task = RetrievalTask(temperature=0.3)
    with tf.GradientTape(persistent=True) as tape:
        loss = task.multi_positive_loss(queries, positives, catalogue, weights)
        targets = np.zeros((5, 7), np.float32)
        for row, items in enumerate(positives.to_list()):
            known = sorted({item for item in items if item >= 0})
            targets[row, known] = 1.0 / max(len(known), 1)
        logits = tf.matmul(queries, catalogue, transpose_b=True) / 0.3
        expected = tf.reduce_mean(
            -tf.reduce_sum(targets * tf.nn.log_softmax(logits), axis=1) * weights
        )
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-6)
    for variable in (queries, catalogue):
        np.testing.assert_allclose(
            tape.gradient(loss, variable).numpy(),
            tape.gradient(expected, variable).numpy(),
            rtol=1e-5,
            atol=1e-6,
        )
