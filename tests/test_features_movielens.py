"""Features on real MovieLens-100K: fitted on the training part only, unseen ids -> OOV."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.data import load_movielens
from tfrs_mtl.data.tensors import to_feature_arrays
from tfrs_mtl.features import (
    FeatureEncoder,
    FeatureVocabularies,
    SharedEmbeddings,
    feature_signature,
    movielens_feature_spec,
)

NUM_TRAIN = 80_000


@pytest.fixture(scope="module")
def arrays(ml100k_dir: Path) -> dict[str, np.ndarray]:
    return to_feature_arrays(load_movielens("movielens-100k", ml100k_dir).ratings)


def test_fit_on_training_rows_and_encode_held_out_rows(arrays: dict[str, np.ndarray]) -> None:
    spec = movielens_feature_spec(embedding_dim=8)
    train = {name: values[:NUM_TRAIN] for name, values in arrays.items()}
    vocabularies = FeatureVocabularies.fit(spec, train)

    train_movies = Counter(train["movie_id"].tolist())
    assert len(vocabularies.tables["movie_id"]) == len(train_movies)
    assert vocabularies.tables["movie_id"][0] == train_movies.most_common(1)[0][0]
    assert len(vocabularies.tables["movie_genres"]) == 19  # ml-100k uses 19 of 21 TFDS genres
    assert len(vocabularies.tables["user_occupation_label"]) == 17  # 21 words, 17 labels
    assert vocabularies.tables["user_gender"] == ("true", "false")  # more men than women

    shared = SharedEmbeddings(spec, vocabularies)
    held_out = {name: tf.constant(values[NUM_TRAIN:]) for name, values in arrays.items()}
    rows = shared.lookup("movie_id", held_out["movie_id"]).numpy()
    unseen = ~np.isin(arrays["movie_id"][NUM_TRAIN:], list(train_movies))
    assert unseen.sum() > 0
    np.testing.assert_array_equal(rows >= len(train_movies), unseen)

    for side in ("query", "candidate"):
        encoder = FeatureEncoder(shared, side=side)
        encoded = tf.function(encoder)(held_out).numpy()
        assert encoded.shape == (len(rows), encoder.output_dim)
        assert np.isfinite(encoded).all()
        signature = feature_signature(spec, side)
        assert set(signature) == set(encoder.encoded_feature_names)
        for name, tensor_spec in signature.items():
            assert tensor_spec.dtype == held_out[name].dtype, name
