"""The TFDS `movielens/*` schema constants and the age and occupation mappings."""

from __future__ import annotations

import numpy as np

from tfrs_mtl.data.movielens_schema import (
    GENRE_NAMES,
    OCCUPATION_LABELS,
    RELEASES,
    bucketize_age,
    occupation_label,
)


def test_label_names_are_tfds_class_labels() -> None:
    import tensorflow_datasets as tfds

    features = tfds.builder("movielens/1m-ratings").info.features
    assert tuple(features["movie_genres"].feature.names) == GENRE_NAMES
    assert tuple(features["user_occupation_label"].names) == OCCUPATION_LABELS


def test_age_buckets() -> None:
    ages = np.asarray([7, 17, 18, 24, 25, 34, 35, 44, 45, 49, 50, 55, 56, 73])
    assert bucketize_age(ages).tolist() == [1, 1, 18, 18, 25, 25, 35, 35, 45, 45, 50, 50, 56, 56]


def test_1m_students_share_one_label() -> None:
    assert occupation_label("K-12 student") == occupation_label("college/grad student") == 17
    assert occupation_label("writer") == 21


def test_release_folders() -> None:
    assert RELEASES["movielens-25m"].folder == "ml-25m"
    assert RELEASES["movielens-100k"].columns[-1] == "raw_user_age"
    assert "user_gender" not in RELEASES["movielens-20m"].columns
