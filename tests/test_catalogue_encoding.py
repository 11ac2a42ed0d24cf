"""Catalogue checks against the model, and batched encoding (serving)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from servable_fixtures import FakeServableModel, make_catalogue

from tfrs_mtl.serving.catalogue_encoding import encode_catalogue, prepare_catalogue, read_items


@pytest.fixture(scope="module")
def model() -> FakeServableModel:
    return FakeServableModel(num_items=30)


def test_prepare_keeps_the_model_columns_with_signature_dtypes(model) -> None:
    catalogue = make_catalogue(30)
    catalogue["movie_genres"] = catalogue["movie_genres"].astype(np.int32)
    columns = prepare_catalogue(model, catalogue)
    assert set(columns) == {"movie_id", "movie_genres"}  # movie_title is not read
    assert columns["movie_genres"].dtype == np.int64
    assert columns["movie_id"][0] == b"m0"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("movie_genres"), r"lacks candidate feature\(s\) \['movie_genres'\]"),
        (lambda c: c.update(movie_genres=c["movie_genres"][:5]), "'movie_genres' has 5 rows"),
        (lambda c: c["movie_id"].__setitem__(3, "m0"), "ids must be unique"),
        (lambda c: c["movie_id"].__setitem__(3, ""), "reserved as the exclusion padding id"),
        (lambda c: c.update(movie_genres=c["movie_genres"][:, 0]), "expected rank 2"),
        (lambda c: c.update(movie_genres=c["movie_title"]), "cannot be read as int64"),
    ],
)
def test_prepare_names_the_problem(model, change, message: str) -> None:
    catalogue = make_catalogue(30)
    change(catalogue)
    with pytest.raises(ValueError, match=message):
        prepare_catalogue(model, catalogue)


def test_empty_catalogue(model) -> None:
    catalogue = {name: values[:0] for name, values in make_catalogue(30).items()}
    with pytest.raises(ValueError, match="the catalogue is empty"):
        prepare_catalogue(model, catalogue)


def test_batched_encoding_equals_one_call(model) -> None:
    columns = prepare_catalogue(model, make_catalogue(30))
    names = ("movie_id", "movie_genres")
    batched = encode_catalogue(
        model.candidate_encoder, columns, names, batch_size=7, progress=False
    )
    whole = model.candidate_encoder({name: columns[name] for name in names}).numpy()
    assert batched.shape == (30, 8)
    np.testing.assert_allclose(batched, whole, rtol=1e-6)


def test_progress_bar_is_shown_by_default(model, capsys) -> None:
    columns = prepare_catalogue(model, make_catalogue(30))
    encode_catalogue(model.candidate_encoder, columns, ("movie_id", "movie_genres"), batch_size=10)
    assert "Encoding catalogue" in capsys.readouterr().err


class _PricedItems:
    """The catalogue side of a model whose items have a price (a float feature)."""

    candidate_id_feature = "item_id"
    candidate_feature_names = ("item_id", "price")

    def feature_signature(self, side: str) -> dict[str, tf.TensorSpec]:
        assert side == "candidate"
        return {
            "item_id": tf.TensorSpec([None], tf.string),
            "price": tf.TensorSpec([None], tf.float32),
        }


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_missing_or_infinite_number_is_refused_naming_the_items(bad: float) -> None:
    """A NaN price would reach the ranking stack and come out as an arbitrary score."""
    catalogue = {
        "item_id": np.array(["a", "b", "c"], dtype=object),
        "price": np.array([1.5, bad, 3.0]),
    }
    with pytest.raises(
        ValueError,
        match=r"'price' is missing \(NaN\) or infinite for 1 item\(s\), e.g. item_id \['b'\]",
    ):
        prepare_catalogue(_PricedItems(), catalogue)
    catalogue["price"][1] = 2.0
    assert prepare_catalogue(_PricedItems(), catalogue)["price"].dtype == np.float32


def test_an_empty_number_cell_of_an_item_file_reads_as_missing(tmp_path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,price\na,1.5\nb,\n")
    items = read_items(path, _PricedItems())
    assert items["price"][0] == np.float32(1.5) and np.isnan(items["price"][1])
    with pytest.raises(ValueError, match="'price' is missing"):
        prepare_catalogue(_PricedItems(), items)
    path.write_text("item_id,price\na,1.5\nb,cheap\n")
    with pytest.raises(ValueError, match="column 'price' cannot be read as float32"):
        read_items(path, _PricedItems())
