"""`load_movielens`: the exact TFDS examples from every MovieLens format, folder or zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.data import movielens_tfds
from tfrs_mtl.data.errors import DataError, DataNotFoundError
from tfrs_mtl.data.movielens import load_movielens

MOVIES_1M = "1::Toy Story (1995)::Animation|Children's|Comedy\n3::Café (2000)::Drama\n"
USERS_1M = "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::4::55117\n"
RATINGS_1M = "1::1::5::978300760\n2::3::3::978302109\n3::1::4::978301968\n"

MOVIES_CSV = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '2,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Drama|Mystery\n'
    "3,Interstellar (2014),IMAX|Sci-Fi\n"
    "4,Some Documentary (2019),(no genres listed)\n"
)
RATINGS_CSV = (
    "userId,movieId,rating,timestamp\n"
    "1,1,4.0,964982703\n"
    "1,3,4.5,964981247\n"
    "2,4,0.5,1445714835\n"
    "2,2,5.0,1445714994\n"
)


def _write(folder: Path, files: dict[str, bytes | str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = (
            content.encode("latin-1" if name.endswith(".dat") else "utf-8")
            if isinstance(content, str)
            else content
        )
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def ml1m_dir(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "ml-1m",
        {"movies.dat": MOVIES_1M, "users.dat": USERS_1M, "ratings.dat": RATINGS_1M},
    )


@pytest.fixture
def latest_dir(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "ml-latest-small", {"movies.csv": MOVIES_CSV, "ratings.csv": RATINGS_CSV}
    )


def test_ml100k_known_rows_and_counts(ml100k_dir: Path) -> None:
    data = load_movielens("movielens-100k", ml100k_dir)
    ratings = data.ratings
    assert len(ratings) == 100_000
    assert ratings["user_id"].nunique() == 943
    assert len(data.movies) == 1_682 and ratings["movie_id"].nunique() == 1_682
    first = ratings.iloc[0].to_dict()
    assert first == {
        "movie_id": "242",
        "movie_title": "Kolya (1996)",
        "movie_genres": [4],  # Comedy
        "user_id": "196",
        "user_rating": 3.0,
        "timestamp": 881250949,
        "user_gender": True,
        "bucketized_user_age": 45.0,  # age 49
        "user_occupation_label": 21,  # writer
        "user_occupation_text": "writer",
        "user_zip_code": "55105",
        "raw_user_age": 49.0,
    }
    # The example every TFRS tutorial prints first: TFDS key 16399.
    tutorial = ratings.loc[16399]
    assert (tutorial["user_id"], tutorial["movie_title"]) == (
        "138",
        "One Flew Over the Cuckoo's Nest (1975)",
    )
    assert (tutorial["user_occupation_label"], tutorial["user_zip_code"]) == (4, "53211")
    assert data.movies.iloc[266].to_dict() == {
        "movie_id": "267",
        "movie_title": "unknown",
        "movie_genres": [17],
    }
    # u.item is ISO-8859-1.
    assert data.movies.loc[542, "movie_title"] == "Misérables, Les (1995)"
    assert ratings.index.equals(pd.RangeIndex(100_000))
    assert data.report.num_rows_dropped == 0


def test_ml100k_age_buckets_cover_every_boundary(ml100k_dir: Path) -> None:
    ratings = load_movielens("movielens-100k", ml100k_dir).ratings
    pairs = ratings[["raw_user_age", "bucketized_user_age"]].drop_duplicates()
    mapping = dict(zip(pairs["raw_user_age"], pairs["bucketized_user_age"], strict=True))
    assert (mapping[7.0], mapping[17.0], mapping[18.0], mapping[24.0], mapping[25.0]) == (
        1.0,
        1.0,
        18.0,
        18.0,
        25.0,
    )
    assert (mapping[45.0], mapping[49.0], mapping[50.0], mapping[55.0], mapping[56.0]) == (
        45.0,
        45.0,
        50.0,
        50.0,
        56.0,
    )


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ("100k-ratings", "movielens-100k"),
        ("1m-ratings", "movielens-1m"),
        ("latest-small-ratings", "movielens-latest-small"),
        ("100k-movies", "movielens-100k"),
    ],
)
def test_columns_and_dtypes_match_tfds_features(
    config: str, name: str, ml100k_dir: Path, ml1m_dir: Path, latest_dir: Path
) -> None:
    import tensorflow_datasets as tfds

    features = tfds.builder(f"movielens/{config}").info.features
    folder = {"movielens-100k": ml100k_dir, "movielens-1m": ml1m_dir}.get(name, latest_dir)
    data = load_movielens(name, folder)
    frame = data.movies if config.endswith("movies") else data.ratings
    assert set(frame.columns) == set(features)
    for column, feature in features.items():
        if column == "movie_genres":
            assert str(frame[column].dtype) == "list<item: int64>[pyarrow]"
            assert feature.shape == (None,) and feature.np_dtype == np.int64
        elif feature.np_dtype == np.object_:  # tf.string
            assert frame[column].dtype == "str", column
        else:
            assert frame[column].dtype == feature.np_dtype, column


def test_ml1m_rows_hand_checked(ml1m_dir: Path) -> None:
    ratings = load_movielens("movielens-1m", ml1m_dir).ratings
    assert ratings.iloc[0].to_dict() == {
        "movie_id": "1",
        "movie_title": "Toy Story (1995)",
        "movie_genres": [2, 3, 4],  # Animation, Children (from "Children's"), Comedy
        "user_id": "1",
        "user_rating": 5.0,
        "timestamp": 978300760,
        "user_gender": False,
        "bucketized_user_age": 1.0,
        "user_occupation_label": 17,  # "K-12 student" -> student
        "user_occupation_text": "K-12 student",
        "user_zip_code": "48067",
    }
    assert ratings["movie_title"].tolist()[1] == "Café (2000)"  # ISO-8859-1 decoded
    assert ratings["user_occupation_label"].tolist() == [17, 16, 17]  # self-employed, college
    assert ratings["user_occupation_text"].tolist()[2] == "college/grad student"
    assert ratings["bucketized_user_age"].tolist() == [1.0, 56.0, 25.0]


def test_latest_rows_hand_checked(latest_dir: Path) -> None:
    data = load_movielens("movielens-latest-small", latest_dir)
    ratings = data.ratings
    assert ratings["user_rating"].tolist() == [4.0, 4.5, 0.5, 5.0]
    assert ratings["movie_genres"].tolist() == [[1, 2, 3, 4, 8], [11, 15], [20], [7, 13]]
    assert ratings["movie_title"].tolist()[3] == (
        "City of Lost Children, The (Cité des enfants perdus, La) (1995)"
    )
    assert list(ratings.columns) == [
        "movie_id",
        "movie_title",
        "movie_genres",
        "user_id",
        "user_rating",
        "timestamp",
    ]
    assert data.movies["movie_id"].tolist() == ["1", "2", "3", "4"]


def test_reads_the_official_zip_layout(tmp_path: Path, latest_dir: Path) -> None:
    archive = tmp_path / "ml-latest-small.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in ("movies.csv", "ratings.csv"):
            zipped.write(latest_dir / name, f"ml-latest-small/{name}")
    from_zip = load_movielens("movielens-latest-small", archive)
    from_folder = load_movielens("movielens-latest-small", latest_dir)
    pd.testing.assert_frame_equal(from_zip.ratings, from_folder.ratings)
    assert from_zip.source == str(archive)


def test_lookup_prefers_data_dir_then_the_environment(
    tmp_path: Path, ml1m_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFRS_MTL_DATA_DIR", str(tmp_path))
    assert load_movielens("movielens-1m").source == str(ml1m_dir)
    # data_dir may also be the folder that holds ml-1m/.
    assert load_movielens("movielens-1m", tmp_path).source == str(ml1m_dir)
    archive = tmp_path / "env" / "ml-1m.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("movies.dat", "users.dat", "ratings.dat"):
            zipped.write(ml1m_dir / name, f"ml-1m/{name}")
    monkeypatch.setenv("TFRS_MTL_DATA_DIR", str(archive.parent))
    assert load_movielens("movielens-1m").source == str(archive)


def test_not_found_anywhere_names_all_three_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFRS_MTL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(movielens_tfds, "_can_reach", lambda host: False)  # offline
    with pytest.raises(DataNotFoundError) as caught:
        load_movielens("movielens-1m")
    message = str(caught.value)
    assert "data_dir=" in message and "--data-dir" in message
    assert f"{tmp_path}/ml-1m" in message
    assert "TFDS download 'movielens/1m-ratings'" in message or "movielens/1m-ratings" in message
    assert "Offline" in message


def test_explicit_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_movielens("movielens-1m", tmp_path / "nowhere")


def test_missing_file_in_the_folder(latest_dir: Path) -> None:
    (latest_dir / "ratings.csv").unlink()
    with pytest.raises(DataError, match=r"ratings\.csv: file not found"):
        load_movielens("movielens-latest-small", latest_dir)


def test_rating_of_a_movie_not_in_the_catalogue(latest_dir: Path) -> None:
    (latest_dir / "ratings.csv").write_text(RATINGS_CSV + "3,99,3.0,1445714999\n")
    with pytest.raises(DataError) as caught:
        load_movielens("movielens-latest-small", latest_dir)
    error = caught.value
    assert (error.problem, error.line, error.column, error.value) == (
        "movie not in catalogue",
        6,
        "movieId",
        "99",
    )
    assert error.expected == "a movie id listed in movies.csv"


def test_skip_drops_bad_rows_with_one_warning(latest_dir: Path) -> None:
    (latest_dir / "ratings.csv").write_text(RATINGS_CSV + "3,99,3.0,1\n3,1,7.0,2\n")
    with pytest.warns(UserWarning, match="dropped 2") as warned:
        data = load_movielens("movielens-latest-small", latest_dir, on_bad_rows="skip")
    assert len(warned) == 1
    assert len(data.ratings) == 4
    assert data.report.reasons == {"movie not in catalogue": 1, "rating out of range": 1}


def test_bad_encoding_in_movies_csv(latest_dir: Path) -> None:
    (latest_dir / "movies.csv").write_bytes(MOVIES_CSV.encode() + b"5,Caf\xe9 (2000),Drama\n")
    with pytest.raises(DataError, match=r"movies\.csv, line 6: invalid text encoding"):
        load_movielens("movielens-latest-small", latest_dir)


def test_unknown_genre_in_the_catalogue(latest_dir: Path) -> None:
    (latest_dir / "movies.csv").write_text(MOVIES_CSV + "5,Odd (2000),Drama|Cyberpunk\n")
    with pytest.raises(
        DataError, match=r"line 6, column 'genres': unknown genre; found 'Cyberpunk'"
    ):
        load_movielens("movielens-latest-small", latest_dir)


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ("1::F::1::10::48067\n2::X::56::16::70072\n", "line 2, column 'Gender': bad gender"),
        ("1::F::2::10::48067\n", "line 1, column 'Age': bad age code; found '2'"),
        ("1::F::1::21::48067\n", "line 1, column 'Occupation': bad occupation code"),
    ],
)
def test_bad_1m_users(ml1m_dir: Path, users: str, message: str) -> None:
    (ml1m_dir / "users.dat").write_text(users)
    with pytest.raises(DataError, match=message):
        load_movielens("movielens-1m", ml1m_dir)


def test_1m_rating_by_an_unknown_user(ml1m_dir: Path) -> None:
    (ml1m_dir / "ratings.dat").write_text(RATINGS_1M + "9::1::4::978301968\n")
    with pytest.raises(DataError, match="line 4, column 'UserID': user not in users file"):
        load_movielens("movielens-1m", ml1m_dir)


def test_duplicate_policies(latest_dir: Path) -> None:
    (latest_dir / "ratings.csv").write_text(RATINGS_CSV + "1,1,2.0,964982800\n1,1,3.0,964982000\n")
    kept = load_movielens("movielens-latest-small", latest_dir)
    assert len(kept.ratings) == 6  # as TFDS: every row
    with pytest.warns(UserWarning, match="2 duplicate"):
        last = load_movielens("movielens-latest-small", latest_dir, duplicates="last")
    assert last.ratings.index.tolist() == [1, 2, 3, 4]  # row 4 (ts ...800) is the latest of 0/4/5
    assert last.ratings.loc[4, "user_rating"] == 2.0
    assert last.report.reasons == {"duplicate (user, movie) rating": 2}
    with pytest.raises(DataError, match=r"line 6: duplicate rating .*found 'user 1, movie 1'"):
        load_movielens("movielens-latest-small", latest_dir, duplicates="raise")


def test_tfds_fallback_restores_file_order(
    tmp_path: Path, latest_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tensorflow_datasets as tfds

    from tfrs_mtl.data.movielens_tfds import in_tfds_order
    from tfrs_mtl.data.tensors import as_tf_dataset

    expected = load_movielens("movielens-latest-small", latest_dir)
    stored = {  # what TFDS would yield: the same examples, in its hash order
        "movielens/latest-small-ratings": in_tfds_order(expected.ratings),
        "movielens/latest-small-movies": in_tfds_order(expected.movies),
    }
    monkeypatch.setattr(tfds, "load", lambda name, split: as_tf_dataset(stored[name]))
    monkeypatch.setattr(movielens_tfds, "_can_reach", lambda host: True)
    monkeypatch.setenv("TFRS_MTL_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    data = load_movielens("movielens-latest-small")
    assert data.source == "tfds:movielens/latest-small"
    pd.testing.assert_frame_equal(data.ratings, expected.ratings)
    pd.testing.assert_frame_equal(data.movies, expected.movies)
