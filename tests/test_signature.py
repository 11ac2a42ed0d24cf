"""feature_signature: raw input specs per side, for SavedModel signatures."""

from __future__ import annotations

import tensorflow as tf

from tfrs_mtl.features import feature_signature, movielens_feature_spec


def test_movielens_signatures() -> None:
    spec = movielens_feature_spec()
    query = feature_signature(spec, "query")
    candidate = feature_signature(spec, "candidate")
    assert {name: (s.dtype, s.shape.as_list()) for name, s in query.items()} == {
        "user_id": (tf.string, [None]),
        "bucketized_user_age": (tf.float32, [None]),
        "user_gender": (tf.bool, [None]),
        "user_occupation_label": (tf.int64, [None]),
        "timestamp": (tf.int64, [None]),
    }
    assert {name: (s.dtype, s.shape.as_list()) for name, s in candidate.items()} == {
        "movie_id": (tf.string, [None]),
        "movie_title": (tf.string, [None]),
        "movie_genres": (tf.int64, [None, None]),
    }
