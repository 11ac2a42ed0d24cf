"""`as_tf_dataset` (TFDS-like examples) and `to_feature_arrays` (dense, padded arrays)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tfrs_mtl.data.movielens_tfds import frame_from_tf_dataset
from tfrs_mtl.data.tensors import as_tf_dataset, to_feature_arrays


@pytest.fixture
def frame() -> pd.DataFrame:
    genres = pa.array([[4], [0, 1, 16], []], pa.list_(pa.int64()))
    return pd.DataFrame(
        {
            "movie_id": pd.Series(["242", "302", "377"], dtype="str"),
            "movie_genres": pd.Series(genres, dtype=pd.ArrowDtype(genres.type)),
            "user_rating": np.asarray([3.0, 3.5, 1.0], np.float32),
            "timestamp": np.asarray([881250949, 891717742, 878887116], np.int64),
            "user_gender": np.asarray([True, False, True]),
        }
    )


def test_feature_arrays_pad_multi_valued_columns(frame: pd.DataFrame) -> None:
    arrays = to_feature_arrays(frame)
    assert arrays["movie_genres"].tolist() == [[4, -1, -1], [0, 1, 16], [-1, -1, -1]]
    assert arrays["movie_genres"].dtype == np.int64
    assert arrays["movie_id"].tolist() == ["242", "302", "377"]
    assert arrays["user_rating"].dtype == np.float32
    assert arrays["user_gender"].dtype == bool
    assert to_feature_arrays(frame, pad_value=0)["movie_genres"][0].tolist() == [4, 0, 0]


def test_feature_arrays_accept_numpy_array_cells(frame: pd.DataFrame) -> None:
    frame = frame.assign(
        movie_genres=pd.Series([np.array([4]), np.array([0, 1, 16]), np.array([], np.int64)])
    )
    assert to_feature_arrays(frame)["movie_genres"][1].tolist() == [0, 1, 16]


def test_tf_dataset_yields_tfds_like_examples(frame: pd.DataFrame) -> None:
    import tensorflow as tf

    dataset = as_tf_dataset(frame)
    spec = dataset.element_spec
    assert spec["movie_genres"] == tf.TensorSpec([None], tf.int64)
    assert spec["movie_id"] == tf.TensorSpec([], tf.string)
    assert spec["user_rating"] == tf.TensorSpec([], tf.float32)
    assert spec["timestamp"] == tf.TensorSpec([], tf.int64)
    assert spec["user_gender"] == tf.TensorSpec([], tf.bool)
    examples = list(dataset.as_numpy_iterator())
    assert examples[1]["movie_id"] == b"302"
    assert examples[1]["movie_genres"].tolist() == [0, 1, 16]
    assert examples[2]["movie_genres"].tolist() == []
    assert examples[0]["timestamp"] == 881250949


def test_frame_round_trips_through_tf_data(frame: pd.DataFrame) -> None:
    back = frame_from_tf_dataset(as_tf_dataset(frame), tuple(frame.columns))
    pd.testing.assert_frame_equal(back, frame)
