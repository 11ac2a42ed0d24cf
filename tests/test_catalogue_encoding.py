"""Catalogue checks against the model, and batched encoding (serving)."""

from __future__ import annotations

import numpy as np
import pytest
from servable_fixtures import FakeServableModel, make_catalogue

from tfrs_mtl.serving.catalogue_encoding import encode_catalogue, prepare_catalogue


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
