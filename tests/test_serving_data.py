"""`ServingData`: known users' features, the OOV path, seen items, `.npz` round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tfrs_mtl.experiments import ServingData


def _serving_data() -> ServingData:
    return ServingData(
        "user_id",
        {
            "user_id": np.array(["u1", "u2", "u3"], dtype=object),
            "user_gender": np.array([True, False, False]),
            "bucketized_user_age": np.array([25.0, 35.0, 35.0], np.float32),
        },
        seen_items=np.array(["a", "b", "c"], dtype=object),
        seen_offsets=np.array([0, 2, 2, 3]),
        item_ids=np.array(["a", "b", "c", "d"], dtype=object),
        item_labels=np.array(["A", "B", "C", "D"], dtype=object),
    )


def test_known_users_get_their_features_and_seen_items() -> None:
    data = _serving_data()
    features = data.query_features(["u3", "u1"])
    assert list(features["user_id"]) == ["u3", "u1"]
    assert list(features["user_gender"]) == [False, True]
    assert list(features["bucketized_user_age"]) == [35.0, 25.0]
    assert data.seen(["u1", "u2", "u3"]) == [["a", "b"], [], ["c"]]
    assert data.label("c") == "C"


def test_unknown_user_keeps_its_id_and_takes_the_most_common_values() -> None:
    data = _serving_data()
    features = data.query_features(["stranger"])
    assert list(features["user_id"]) == ["stranger"]  # the model's OOV row
    assert list(features["user_gender"]) == [False]  # 2 of 3 known users
    assert list(features["bucketized_user_age"]) == [35.0]
    assert data.seen(["stranger"]) == [[]]
    assert not data.knows("stranger")


def test_npz_round_trip_without_pickles(tmp_path: Path) -> None:
    data = _serving_data()
    path = data.save(tmp_path / "serving_data.npz")
    loaded = ServingData.load(path)
    assert list(loaded.user_ids) == ["u1", "u2", "u3"]
    assert loaded.seen(["u1"]) == [["a", "b"]]
    assert list(loaded.query_features(["u2"])["bucketized_user_age"]) == [35.0]
    assert [p.name for p in tmp_path.iterdir()] == ["serving_data.npz"]


def test_unknown_user_has_an_empty_multi_valued_feature() -> None:
    data = ServingData(
        "user_id",
        {
            "user_id": np.array(["a", "b"], dtype=object),
            "user_history": np.array([[3, 4], [5, -1]], np.int64),
        },
        np.array([], dtype=str),
        np.array([0, 0, 0]),
        np.array(["x"]),
        np.array([""]),
    )
    found = data.query_features(["b", "zz"])
    assert found["user_history"].tolist() == [[5, -1], [-1, -1]]
