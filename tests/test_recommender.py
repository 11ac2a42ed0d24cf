"""Recommender: two-stage recommend, exclusions, OOV users, k rules, empty batches, blend."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from servable_fixtures import FakeServableModel, make_catalogue, make_queries

from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.interfaces import ServableModel
from tfrs_mtl.serving.recommender import Recommender

NUM_ITEMS = 60


@pytest.fixture(scope="module")
def model() -> FakeServableModel:
    return FakeServableModel(num_items=NUM_ITEMS)


@pytest.fixture(scope="module")
def recommender(model) -> Recommender:
    return Recommender(model, make_catalogue(NUM_ITEMS), IndexConfig(), progress=False)


@pytest.fixture(scope="module")
def exact(model) -> Recommender:
    return Recommender(
        model,
        make_catalogue(NUM_ITEMS),
        IndexConfig(kind="brute_force"),
        batch_size=7,
        progress=False,
    )


def test_fake_model_is_servable(model) -> None:
    assert isinstance(model, ServableModel)


def test_recommend_shapes_and_scores(recommender) -> None:
    results = recommender.recommend(make_queries(["u1", "u2", "u3"]), k=5)
    assert results.item_ids.shape == (3, 5)
    assert results.retrieval_scores.shape == (3, 5)
    assert set(results.scores) == {"rating", "purchase"}
    # No fitted blend: the final order is stage 1's (the retrieval score).
    assert recommender.default_blend == {"retrieval": 1.0}
    assert (np.diff(results.retrieval_scores, axis=1) <= 0).all()
    assert (np.diff(results.final_scores, axis=1) <= 0).all()
    for row in results.item_ids:
        assert len(set(row)) == 5


def test_retrieval_only_blend_is_the_exact_top_k(model, exact) -> None:
    queries = make_queries(["u1", "u7"])
    results = exact.recommend(queries, k=4, num_candidates=NUM_ITEMS, blend={"retrieval": 1.0})
    scores = exact.encode_queries(queries) @ exact.candidate_embeddings.T
    expected = exact.catalogue_ids[np.argsort(-scores, axis=1)[:, :4]]
    np.testing.assert_array_equal(results.item_ids, expected.astype(str))
    np.testing.assert_allclose(
        results.retrieval_scores, np.sort(scores, axis=1)[:, ::-1][:, :4], rtol=1e-5
    )
    assert (np.diff(results.final_scores, axis=1) <= 0).all()


def _standardised(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


def test_blend_weights_combine_standardised_scores(recommender) -> None:
    # Every candidate comes back (k = num_candidates), so the standardisation is checkable.
    results = recommender.recommend(
        make_queries(["u4"]), k=20, num_candidates=20, blend={"rating": 1.0, "purchase": 2.0}
    )
    expected = _standardised(results.scores["rating"][0]) + 2.0 * _standardised(
        np.log(results.scores["purchase"][0])
    )
    np.testing.assert_allclose(results.final_scores[0], expected, rtol=1e-4, atol=1e-5)
    assert (np.diff(results.final_scores, axis=1) <= 0).all()


def test_a_blend_and_its_multiple_give_the_same_order(recommender) -> None:
    queries = make_queries(["u2", "u9"])
    once = recommender.recommend(queries, k=8, blend={"retrieval": 1.0, "rating": 0.5})
    scaled = recommender.recommend(queries, k=8, blend={"retrieval": 4.0, "rating": 2.0})
    np.testing.assert_array_equal(once.item_ids, scaled.item_ids)


def test_a_fitted_blend_is_the_default(model) -> None:
    fitted = Recommender(
        model,
        make_catalogue(NUM_ITEMS),
        IndexConfig(kind="brute_force"),
        progress=False,
        blend={"rating": 1.0},
    )
    assert fitted.default_blend == {"rating": 1.0}
    results = fitted.recommend(make_queries(["u3"]), k=5)
    assert (np.diff(results.scores["rating"], axis=1) <= 0).all()


def test_stage_two_scores_equal_the_ranker_on_each_pair(model, recommender) -> None:
    results = recommender.recommend(make_queries(["u5"]), k=3)
    catalogue = make_catalogue(NUM_ITEMS)
    rows = [int(item[1:]) for item in results.item_ids[0]]
    pairs = {
        "user_id": np.array(["u5"] * 3, dtype=object),
        "user_age": np.repeat(make_queries(["u5"])["user_age"], 3),
        "movie_id": catalogue["movie_id"][rows],
        "movie_genres": catalogue["movie_genres"][rows],
    }
    direct = model.ranker(pairs)
    np.testing.assert_allclose(results.scores["rating"][0], direct["rating"].numpy(), rtol=1e-5)
    np.testing.assert_allclose(results.scores["purchase"][0], direct["purchase"].numpy(), rtol=1e-5)
    scored = recommender.score(make_queries(["u5"]), [list(results.item_ids[0])])
    np.testing.assert_allclose(scored["rating"][0], direct["rating"].numpy(), rtol=1e-5)


def test_exclusion_still_returns_k_unseen_items(recommender) -> None:
    queries = make_queries(["u1", "u2"])
    first = recommender.recommend(queries, k=10, num_candidates=10)
    seen = [list(first.item_ids[0]), list(first.item_ids[1][:3])]
    again = recommender.recommend(queries, k=10, num_candidates=10, exclude=seen)
    for row, excluded in zip(again.item_ids, seen, strict=True):
        assert len(set(row)) == 10
        assert not set(row) & set(excluded)
    assert not np.isnan(again.final_scores).any()


def test_exclusion_beyond_the_catalogue_leaves_marked_slots(recommender) -> None:
    seen = [[f"m{i}" for i in range(NUM_ITEMS - 2)]]
    results = recommender.recommend(make_queries(["u1"]), k=5, exclude=seen)
    assert sorted(results.item_ids[0][:2]) == ["m58", "m59"]
    assert list(results.item_ids[0][2:]) == ["", "", ""]
    assert np.isnan(results.final_scores[0, 2:]).all()
    assert len(results.to_records()) == 2


def test_unknown_user_goes_through_the_oov_bucket(recommender) -> None:
    queries = make_queries(["stranger", "another stranger"])
    queries["user_age"][:] = 30.0
    results = recommender.recommend(queries, k=5)
    assert results.item_ids.shape == (2, 5)
    # Both map to the single OOV embedding with the same age: same recommendations.
    np.testing.assert_array_equal(results.item_ids[0], results.item_ids[1])


def test_k_larger_than_the_catalogue_is_clipped_with_a_warning(recommender) -> None:
    with pytest.warns(UserWarning, match="k=100 exceeds the catalogue size 60"):
        results = recommender.recommend(make_queries(["u1"]), k=100)
    assert results.item_ids.shape == (1, NUM_ITEMS)
    assert sorted(results.item_ids[0]) == sorted(f"m{i}" for i in range(NUM_ITEMS))


@pytest.mark.parametrize("k", [0, -3])
def test_non_positive_k_is_an_error(recommender, k: int) -> None:
    with pytest.raises(ValueError, match=f"k={k} must be positive"):
        recommender.recommend(make_queries(["u1"]), k=k)


def test_num_candidates_below_k_is_raised_to_k(recommender) -> None:
    results = recommender.recommend(make_queries(["u1"]), k=8, num_candidates=2)
    assert len(set(results.item_ids[0])) == 8


def test_empty_batch_returns_empty_arrays(recommender) -> None:
    results = recommender.recommend(make_queries([]), k=4)
    assert results.item_ids.shape == (0, 4)
    assert results.final_scores.shape == (0, 4)
    assert {task: s.shape for task, s in results.scores.items()} == {
        "rating": (0, 4),
        "purchase": (0, 4),
    }
    assert recommender.retrieve(make_queries([]), k=4).item_ids.shape == (0, 4)
    plain_lists = recommender.recommend({"user_id": [], "user_age": []}, k=2)
    assert plain_lists.item_ids.shape == (0, 2)


def test_retrieve_returns_index_order(exact) -> None:
    results = exact.retrieve(make_queries(["u3"]), k=5)
    assert results.scores == {}
    assert (np.diff(results.retrieval_scores, axis=1) <= 0).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.recommend({"user_id": np.array(["u1"])}), r"lacks \['user_age'\]"),
        (lambda r: r.recommend(make_queries(["u1"]), blend={"click": 1.0}), "unknown score"),
        (lambda r: r.recommend(make_queries(["u1"]), exclude=[[], []]), "expected one per query"),
        (lambda r: r.score(make_queries(["u1"]), [["m1", "nope"]]), "not in the catalogue"),
    ],
)
def test_bad_requests_name_the_problem(recommender, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(recommender)


def test_graph_handles_an_empty_batch_itself(recommender) -> None:
    # TF Serving callers reach the graph without the Python checks.
    empty = {"user_id": tf.constant([], tf.string), "user_age": tf.constant([], tf.float32)}
    outputs = recommender.graph.recommend(
        empty,
        tf.zeros([0, 0], tf.string),
        tf.constant(3),
        tf.constant(10),
        tf.constant([0.0, 1.0, 0.0]),
    )
    assert outputs["item_ids"].shape == (0, 3)


def test_integer_candidate_ids_pad_with_minus_one() -> None:
    model = FakeServableModel(num_items=12, integer_ids=True)
    recommender = Recommender(
        model,
        make_catalogue(12, integer_ids=True),
        IndexConfig(kind="brute_force"),
        progress=False,
    )
    results = recommender.recommend(make_queries(["u1"]), k=4, exclude=[list(range(10))])
    assert results.item_ids.dtype == np.int64
    assert sorted(results.item_ids[0][:2]) == [10, 11]
    assert results.item_ids[0][2:].tolist() == [-1, -1]
    assert recommender.score(make_queries(["u1"]), [[3, 11]])["rating"].shape == (1, 2)


def test_tune_index_on_held_out_queries(recommender) -> None:
    result = recommender.tune_index(
        make_queries([f"u{i}" for i in range(20)]), k=5, repeats=1, progress=False
    )
    # 60 items make one leaf (no tree): brute force plus the reordering depths 10, 50, 60.
    assert [m.config.kind for m in result.measurements] == ["brute_force"] + ["scann"] * 3
    assert result.best_measurement().recall >= 0.95


def _rows(catalogue: dict[str, np.ndarray], rows: slice) -> dict[str, np.ndarray]:
    return {name: values[rows] for name, values in catalogue.items()}


def test_added_items_are_served_as_if_they_had_been_in_the_catalogue(model, tmp_path) -> None:
    catalogue = make_catalogue(NUM_ITEMS)
    catalogue["movie_id"][-1] = "brand-new"  # an id the model never trained on
    exact = IndexConfig(kind="brute_force")
    grown = Recommender(model, _rows(catalogue, slice(0, 50)), exact, progress=False)
    queries = make_queries(["u1", "u2", "u3"])
    # Serve before adding, as a running service does: every signature is traced then.
    grown.recommend(queries, k=10, num_candidates=50, blend={"rating": 1.0})
    grown.retrieve(queries, k=10)
    grown.score(queries, np.tile(catalogue["movie_id"][:2], (3, 1)))
    added = grown.add_items(_rows(catalogue, slice(50, None)))
    assert added.num_added == NUM_ITEMS - 50
    assert added.unknown_ids == ("brand-new",)
    whole = Recommender(model, catalogue, exact, progress=False)
    assert grown.num_items == whole.num_items == NUM_ITEMS
    np.testing.assert_array_equal(grown.catalogue_ids, whole.catalogue_ids)
    np.testing.assert_allclose(grown.candidate_embeddings, whole.candidate_embeddings, atol=1e-6)
    ours = grown.recommend(queries, k=10, num_candidates=NUM_ITEMS, blend={"rating": 1.0})
    theirs = whole.recommend(queries, k=10, num_candidates=NUM_ITEMS, blend={"rating": 1.0})
    np.testing.assert_array_equal(ours.item_ids, theirs.item_ids)
    assert np.isin(ours.item_ids, catalogue["movie_id"][50:]).any()  # the new items reach lists
    everything = grown.retrieve(queries, k=NUM_ITEMS)
    np.testing.assert_array_equal(
        everything.item_ids, whole.retrieve(queries, k=NUM_ITEMS).item_ids
    )
    new_ids = np.tile(catalogue["movie_id"][50:], (3, 1))
    for task, scores in grown.score(queries, new_ids).items():
        np.testing.assert_allclose(scores, whole.score(queries, new_ids)[task], rtol=1e-5)
    # The export carries them.
    from tfrs_mtl.serving import load

    loaded = load(grown.save(tmp_path / "export"))
    assert loaded.num_items == NUM_ITEMS
    np.testing.assert_array_equal(
        loaded.recommend(queries, k=10, num_candidates=NUM_ITEMS, blend={"rating": 1.0}).item_ids,
        ours.item_ids,
    )


def test_adding_an_id_already_in_the_catalogue_is_refused_and_changes_nothing(model) -> None:
    catalogue = make_catalogue(NUM_ITEMS)
    recommender = Recommender(model, _rows(catalogue, slice(0, 50)), IndexConfig(), progress=False)
    with pytest.raises(ValueError, match=r"1 id\(s\) already in the catalogue, e.g. \['m3'\]"):
        recommender.add_items(_rows(catalogue, slice(3, 4)))
    twice = _rows(catalogue, slice(50, 52))
    twice["movie_id"] = np.array(["m50", "m50"], dtype=object)
    with pytest.raises(ValueError, match="unique"):
        recommender.add_items(twice)
    with pytest.raises(ValueError, match="lacks candidate feature"):
        recommender.add_items({"movie_id": np.array(["m51"], dtype=object)})
    assert recommender.num_items == 50
    assert len(recommender.candidate_embeddings) == 50
