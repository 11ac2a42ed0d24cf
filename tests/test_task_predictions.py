"""`predict_task_outputs`: batched inference equals one call over all rows."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from test_multitask_model import _tensors, movielens_arrays

from tfrs_mtl.models import MultiTaskModel, movielens_config, predict_task_outputs


def test_batches_concatenate_to_the_single_call() -> None:
    tf.keras.utils.set_random_seed(0)
    arrays = movielens_arrays(num_examples=20, seed=5)
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=4), arrays)
    expected = model.task_outputs(_tensors(arrays), training=False)
    batched = predict_task_outputs(model, arrays, batch_size=7)  # 7 + 7 + 6 rows
    assert set(batched) == set(expected)
    for name, value in expected.items():
        assert batched[name].shape[0] == 20
        np.testing.assert_allclose(batched[name], np.asarray(value), rtol=1e-5, atol=1e-6)
