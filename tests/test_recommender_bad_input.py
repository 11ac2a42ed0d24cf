"""Bad requests to the recommender, in-process and after an export round trip: each has a
defined outcome (a result, or a TypeError / ValueError naming the argument and what it
expects), never an obscure TensorFlow error."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from servable_fixtures import FakeServableModel, make_catalogue, make_queries

from tfrs_mtl.serving.export import load
from tfrs_mtl.serving.id_arrays import id_array
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.recommender import Recommender
from tfrs_mtl.serving.recommender_base import RecommenderBase

NUM_ITEMS = 30
STRING_IDS = "string ids \\(text, or integers read as their decimal text\\)"


@pytest.fixture(scope="module")
def in_process() -> Recommender:
    model = FakeServableModel(num_items=NUM_ITEMS)
    config = IndexConfig(kind="brute_force")
    return Recommender(model, make_catalogue(NUM_ITEMS), config, progress=False)


@pytest.fixture(scope="module")
def loaded(in_process, tmp_path_factory) -> RecommenderBase:
    return load(in_process.save(tmp_path_factory.mktemp("exports") / "bad_input"))


@pytest.fixture(scope="module", params=["in_process", "loaded"])
def served(request) -> RecommenderBase:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def integer_ids() -> Recommender:
    model = FakeServableModel(num_items=12, integer_ids=True)
    config = IndexConfig(kind="brute_force")
    return Recommender(model, make_catalogue(12, integer_ids=True), config, progress=False)


def _query(user_ids: list, ages: list | None = None) -> dict[str, object]:
    return {"user_id": user_ids, "user_age": ages if ages is not None else [30.0] * len(user_ids)}


def test_integer_user_ids_are_read_as_their_decimal_text(served) -> None:
    as_ints = served.recommend(_query([7, 3]), k=4)
    as_text = served.recommend(_query(["7", "3"]), k=4)
    np.testing.assert_array_equal(as_ints.item_ids, as_text.item_ids)
    np.testing.assert_array_equal(as_ints.final_scores, as_text.final_scores)


@pytest.mark.parametrize(
    ("user_ids", "found"),
    [([None], "None \\(NoneType\\)"), ([1.5], "np.float64\\(1.5\\)"), ([True], "np.True_")],
)
def test_ids_of_another_type_name_the_feature_and_dtype(served, user_ids, found: str) -> None:
    with pytest.raises(TypeError, match=f"query feature 'user_id' holds {found}.*{STRING_IDS}"):
        served.recommend(_query(user_ids), k=3)


def test_text_where_a_number_is_expected_names_the_feature(served) -> None:
    with pytest.raises(ValueError, match="query feature 'user_age' cannot be read as float32"):
        served.recommend(_query(["u1"], ["thirty"]), k=3)


@pytest.mark.parametrize("age", [float("nan"), float("inf")])
def test_non_finite_numbers_are_refused(served, age: float) -> None:
    with pytest.raises(ValueError, match="'user_age' holds NaN or infinite values"):
        served.recommend(_query(["u1"], [age]), k=3)


def test_unknown_empty_long_and_non_ascii_ids_share_the_oov_embedding(served) -> None:
    odd = ["", "x" * 100_000, "ユーザー😀", b"\xff\xfe", "nobody"]
    results = served.recommend(_query(odd), k=5)
    assert results.item_ids.shape == (5, 5)
    for row in results.item_ids[1:]:  # the same OOV bucket and age: the same items
        np.testing.assert_array_equal(row, results.item_ids[0])


@pytest.mark.parametrize(
    ("features", "error", "message"),
    [
        (None, TypeError, "query_features must be a mapping .* got NoneType"),
        (["u1"], TypeError, "query_features must be a mapping .* got list"),
        ({"user_age": [30.0]}, ValueError, r"lacks \['user_id'\]"),
        ({}, ValueError, r"lacks \['user_(id|age)', 'user_(id|age)'\]"),
        ({"user_id": [["u1"]], "user_age": [30.0]}, ValueError, "'user_id' has shape \\(1, 1\\)"),
        ({"user_id": "u1", "user_age": 30.0}, ValueError, "'user_(id|age)' has shape \\(\\)"),
        ({"user_id": ["u1", "u2"], "user_age": [30.0]}, ValueError, "disagree on the batch size"),
    ],
)
def test_missing_or_misshapen_features_name_the_feature(served, features, error, message) -> None:
    with pytest.raises(error, match=message):
        served.recommend(features, k=3)


@pytest.mark.parametrize(
    ("k", "error", "message"),
    [
        (0, ValueError, "k=0 must be positive"),
        (-1, ValueError, "k=-1 must be positive"),
        (2.0, TypeError, "k must be an int, got 2.0"),
        ("3", TypeError, "k must be an int, got '3'"),
        (True, TypeError, "k must be an int, got True"),
        (None, TypeError, "k must be an int, got None"),
    ],
)
def test_bad_k_in_recommend_and_retrieve(served, k, error, message: str) -> None:
    with pytest.raises(error, match=message):
        served.recommend(make_queries(["u1"]), k=k)
    with pytest.raises(error, match=message):
        served.retrieve(make_queries(["u1"]), k=k)


def test_numpy_integer_k_is_an_int(served) -> None:
    assert served.recommend(make_queries(["u1"]), k=np.int64(3)).item_ids.shape == (1, 3)


def test_k_above_the_catalogue_returns_the_whole_catalogue_once(served) -> None:
    with pytest.warns(UserWarning, match=f"exceeds the catalogue size {NUM_ITEMS}"):
        results = served.retrieve(make_queries(["u1"]), k=10**6)
    assert sorted(results.item_ids[0]) == sorted(f"m{i}" for i in range(NUM_ITEMS))


@pytest.mark.parametrize("num_candidates", [0, -5])
def test_non_positive_num_candidates(served, num_candidates: int) -> None:
    with pytest.raises(ValueError, match=f"num_candidates={num_candidates} must be positive"):
        served.recommend(make_queries(["u1"]), k=3, num_candidates=num_candidates)


def test_empty_batch_of_any_list_type(served) -> None:
    for features in (_query([]), make_queries([]), {"user_id": np.array([]), "user_age": []}):
        assert served.recommend(features, k=3).item_ids.shape == (0, 3)
        assert served.retrieve(features, k=3).item_ids.shape == (0, 3)


def test_score_of_an_empty_batch_and_of_no_ids(served) -> None:
    assert served.score(make_queries([]), np.zeros((0, 2), object))["rating"].shape == (0, 2)
    assert served.score(make_queries(["u1"]), [[]])["purchase"].shape == (1, 0)


@pytest.mark.parametrize(
    ("blend", "error", "message"),
    [
        ({"rating": "a lot"}, TypeError, "blend weights must be numbers"),
        ({"rating": float("nan")}, ValueError, "must be finite and not all zero"),
        ({"rating": 0.0}, ValueError, "must be finite and not all zero"),
        ({"clicks": 1.0}, ValueError, r"unknown score\(s\) \['clicks'\]"),
    ],
)
def test_bad_blend_weights(served, blend, error, message: str) -> None:
    with pytest.raises(error, match=message):
        served.recommend(make_queries(["u1"]), k=3, blend=blend)


def test_exclusions_checked_per_query(served) -> None:
    with pytest.raises(TypeError, match=r"exclude\[1\] is None; expected a list of candidate ids"):
        served.recommend(make_queries(["u1", "u2"]), k=3, exclude=[[], None])
    with pytest.raises(TypeError, match=r"exclude\[0\] is 'm1'; expected a list"):
        served.recommend(make_queries(["u1"]), k=3, exclude=["m1"])
    with pytest.raises(TypeError, match=rf"exclude\[0\] holds np.float64\(2.5\).*{STRING_IDS}"):
        served.recommend(make_queries(["u1"]), k=3, exclude=[[2.5]])
    # Ids outside the catalogue cannot be returned anyway: nothing to exclude.
    plain = served.recommend(make_queries(["u1"]), k=3)
    unknown = served.recommend(make_queries(["u1"]), k=3, exclude=[["nope", "ユーザー"]])
    np.testing.assert_array_equal(unknown.item_ids, plain.item_ids)


def test_bad_candidate_ids_in_score(served) -> None:
    with pytest.raises(ValueError, match=r"not in the catalogue \(30 string ids\)"):
        served.score(make_queries(["u1"]), [["m1", "nope"]])
    with pytest.raises(ValueError, match=r"not in the catalogue \(30 string ids\)"):
        served.score(make_queries(["u1"]), [[1]])  # read as "1", which no movie is called
    with pytest.raises(TypeError, match=rf"candidate_ids holds None.*{STRING_IDS}"):
        served.score(make_queries(["u1"]), [[None]])
    with pytest.raises(ValueError, match=r"must be \[batch_size=1, num_ids\], got \(2,\)"):
        served.score(make_queries(["u1"]), ["m1", "m2"])


def test_integer_catalogues_refuse_text_ids(integer_ids) -> None:
    queries = make_queries(["u1"])
    with pytest.raises(TypeError, match=r"exclude\[0\] holds np.str_\('3'\).*expected int64 ids"):
        integer_ids.recommend(queries, k=3, exclude=[["3"]])
    with pytest.raises(TypeError, match=r"candidate_ids holds np.str_\('a'\).*expected int64"):
        integer_ids.score(queries, [["a"]])
    with pytest.raises(ValueError, match=r"not in the catalogue \(12 int64 ids\)"):
        integer_ids.score(queries, [[99]])
    excluded = integer_ids.recommend(queries, k=12, exclude=[np.arange(10, dtype=np.int32)])
    assert sorted(excluded.item_ids[0][:2]) == [10, 11]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 20], ["1", "20"]),
        (np.array([[3], [4]], np.int32), [["3"], ["4"]]),
        (["a", b"b", 5], ["a", "b", "5"]),  # numpy reads a mixed list as text
        (["a", b"\xff", 5], ["a", b"\xff", "5"]),
        ([], []),
    ],
)
def test_id_array_reads_integers_as_text_for_string_ids(values, expected) -> None:
    assert id_array(values, tf.string, "ids").tolist() == expected
