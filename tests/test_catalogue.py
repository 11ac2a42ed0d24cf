"""`Catalogue`: one row per training item, frequencies, and an npz round trip without pickles."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.models import Catalogue


def _arrays() -> dict[str, np.ndarray]:
    return {
        "movie_id": np.array(["3", "1", "3", "2", "3"], dtype=object),
        "movie_genres": np.array([[1, -1], [0, 2], [1, -1], [4, -1], [1, -1]]),
        "movie_title": np.array(["c", "a", "c", "b", "c"], dtype=object),
        "user_id": np.array(["u"] * 5, dtype=object),
    }


def test_from_arrays_keeps_one_row_per_item_and_its_frequency() -> None:
    catalogue = Catalogue.from_arrays(_arrays(), "movie_id", ["movie_title", "movie_genres"])
    assert catalogue.keys.tolist() == ["1", "2", "3"]
    np.testing.assert_allclose(catalogue.probabilities, [0.2, 0.2, 0.6])
    assert catalogue.features["movie_title"].tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(catalogue.features["movie_genres"], [[0, 2], [4, -1], [1, -1]])
    assert set(catalogue.features) == {"movie_id", "movie_title", "movie_genres"}


def test_integer_ids_are_keyed_as_decimal_strings() -> None:
    catalogue = Catalogue.from_arrays({"item_id": np.array([10, 2, 10])}, "item_id", [])
    assert catalogue.keys.tolist() == ["10", "2"]


def test_save_and_load(tmp_path) -> None:
    catalogue = Catalogue.from_arrays(_arrays(), "movie_id", ["movie_title", "movie_genres"])
    catalogue.save(tmp_path / "catalogue.npz")
    loaded = Catalogue.load(tmp_path / "catalogue.npz")
    assert loaded.id_feature == "movie_id"
    assert loaded.keys.tolist() == catalogue.keys.tolist()
    np.testing.assert_array_equal(loaded.probabilities, catalogue.probabilities)
    for name, values in catalogue.features.items():
        np.testing.assert_array_equal(
            loaded.features[name], values.astype(loaded.features[name].dtype)
        )


def test_labels_are_kept_apart_from_the_features_and_saved(tmp_path) -> None:
    catalogue = Catalogue.from_arrays(
        _arrays(), "movie_id", ["movie_title"], label_keys=["movie_genres"]
    )
    assert set(catalogue.features) == {"movie_id", "movie_title"}
    np.testing.assert_array_equal(catalogue.labels["movie_genres"], [[0, 2], [4, -1], [1, -1]])
    catalogue.save(tmp_path / "catalogue.npz")
    loaded = Catalogue.load(tmp_path / "catalogue.npz")
    assert set(loaded.features) == {"movie_id", "movie_title"}
    np.testing.assert_array_equal(loaded.labels["movie_genres"], catalogue.labels["movie_genres"])
    assert Catalogue.from_arrays(_arrays(), "movie_id", []).labels == {}


def test_missing_labels_and_misaligned_rows_are_refused() -> None:
    with pytest.raises(KeyError, match=r"\['price'\] are not in the training arrays"):
        Catalogue.from_arrays(_arrays(), "movie_id", [], label_keys=["price"])
    with pytest.raises(ValueError, match="label 'price' has 2 rows for 3 items"):
        Catalogue(
            {"movie_id": np.array(["1", "2", "3"])},
            "movie_id",
            np.full(3, 1 / 3),
            labels={"price": np.array([1.0, 2.0])},
        )
