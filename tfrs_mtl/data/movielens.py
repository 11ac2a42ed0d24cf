"""`load_movielens`: every MovieLens release as the exact examples of TFDS `movielens/*`.

The ratings frame holds one row per TFDS `movielens/<config>-ratings` example and the movies
frame one row per `-movies` example, with TFDS's feature names and dtypes:

| column | dtype | releases |
| --- | --- | --- |
| `movie_id`, `movie_title`, `user_id` | `str` (raw text) | all |
| `movie_genres` | `list<int64>` (`pd.ArrowDtype`), indices into `GENRE_NAMES` | all |
| `user_rating` | `float32` | all |
| `timestamp` | `int64` unix seconds | all |
| `user_gender` | `bool` (True iff "M") | 100k, 1m |
| `bucketized_user_age` | `float32` in {1, 18, 25, 35, 45, 50, 56} | 100k, 1m |
| `user_occupation_label` | `int64`, index into `OCCUPATION_LABELS` | 100k, 1m |
| `user_occupation_text`, `user_zip_code` | `str` | 100k, 1m |
| `raw_user_age` | `float32` | 100k |

Rows are in file order, and the frame's index is the 0-based row of the ratings file, which is
the TFDS example key: TFDS itself stores examples sorted by a hash of that key (see
`tfds_order`), which is the order `tfds.load` yields and the TFRS tutorials shuffle.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tfrs_mtl._input_files import folder_problem
from tfrs_mtl.data.dataset_files import DatasetFiles
from tfrs_mtl.data.duplicates import DUPLICATES_CHOICES, Duplicates, apply_duplicate_policy
from tfrs_mtl.data.errors import (
    DataError,
    DataNotFoundError,
    OnBadRows,
    ReadReport,
    check_on_bad_rows,
)
from tfrs_mtl.data.movielens_formats import (
    MovieTable,
    UserTable,
    parse_1m_movies,
    parse_1m_users,
    parse_100k_movies,
    parse_100k_users,
    parse_csv_movies,
)
from tfrs_mtl.data.movielens_schema import MovieLensRelease, get_release
from tfrs_mtl.data.rating_file import (
    LAYOUT_1M,
    LAYOUT_100K,
    LAYOUT_CSV,
    RatingColumns,
    read_rating_file,
)

DATA_DIR_ENV = "TFRS_MTL_DATA_DIR"
GENRES_TYPE = pa.list_(pa.int64())

# file format -> (ratings file, movies file, users file)
_FILES = {
    "100k": ("u.data", "u.item", "u.user"),
    "1m": ("ratings.dat", "movies.dat", "users.dat"),
    "csv": ("ratings.csv", "movies.csv", None),
}


@dataclasses.dataclass(frozen=True, eq=False)
class MovieLensData:
    """One MovieLens release, as TFDS `movielens/<config>-ratings` and `-movies` examples.

    Attributes:
        name: dataset name, e.g. `movielens-100k`.
        ratings: one row per rating, columns as in the module docstring; index = TFDS key.
        movies: one row per line of the movies file: `movie_id`, `movie_title`,
            `movie_genres`.
        source: where it was read from (a folder, a zip, or `tfds:movielens/100k`).
        report: rows read and dropped.
    """

    name: str
    ratings: pd.DataFrame
    movies: pd.DataFrame
    source: str
    report: ReadReport


def load_movielens(
    name: str = "movielens-100k",
    data_dir: str | Path | None = None,
    *,
    on_bad_rows: OnBadRows = "raise",
    duplicates: Duplicates = "keep",
) -> MovieLensData:
    """Reads a MovieLens release from a folder, its zip, or TFDS, validating every row.

    Lookup order: `data_dir` (the release's folder or zip, or a folder holding `ml-100k/` or
    `ml-100k.zip`), then `$TFRS_MTL_DATA_DIR/<official folder>` (or `.zip`), then
    `tfds.load` (which downloads when online).

    Args:
        name: one of `MOVIELENS_NAMES`, e.g. `movielens-100k`, `movielens-1m`,
            `movielens-latest-small`, `movielens-20m`, `movielens-25m`.
        data_dir: where the release is; None to look in the environment, then TFDS.
        on_bad_rows: `raise` a `DataError` naming the file, line, column, value and what was
            expected; or `skip` bad rows, counting them in `report` with one `UserWarning`.
        duplicates: several ratings of one movie by one user: `keep` them all (as TFDS does),
            keep only the `last` by timestamp (file order breaks ties), or `raise`.

    Returns:
        A `MovieLensData`.

    Raises:
        DataError: the files break the format.
        DataNotFoundError: the release is in none of the three places.

    Example:
        >>> data = load_movielens("movielens-100k", "/data/ml-100k")  # doctest: +SKIP
        >>> data.ratings.loc[0, ["user_id", "movie_title"]].tolist()  # doctest: +SKIP
        ['196', 'Kolya (1996)']
    """
    release = get_release(name)
    check_on_bad_rows(on_bad_rows)
    if duplicates not in DUPLICATES_CHOICES:
        raise ValueError(f"duplicates={duplicates!r}; expected one of {DUPLICATES_CHOICES}")
    location = locate_movielens(release, data_dir)
    if location is None:
        from tfrs_mtl.data import movielens_tfds  # imports TensorFlow: only on this path

        ratings, movies = movielens_tfds.load_from_tfds(release, not_found=_not_found(release))
        report = ReadReport(num_rows_read=len(ratings))
        ratings = apply_duplicate_policy(ratings, duplicates, "tfds", report)
        source = f"tfds:movielens/{release.tfds_version}"
    else:
        with DatasetFiles(location) as files:
            ratings, movies, report = _read_files(release, files, on_bad_rows, duplicates)
        source = str(location)
    report.warn_if_dropped(source)
    return MovieLensData(release.name, ratings, movies, source, report)


def locate_movielens(release: MovieLensRelease, data_dir: str | Path | None) -> Path | None:
    """The folder or zip holding `release`, or None to fall back on TFDS."""
    if data_dir is not None:
        root = Path(data_dir)
        for candidate in (root / release.folder, root / f"{release.folder}.zip"):
            if candidate.exists():
                return candidate
        if root.exists():
            return root
        problem = folder_problem(root) or "cannot be read"
        raise DataNotFoundError(
            f"{release.name}: data_dir={str(root)!r} {problem}; expected the {release.folder} "
            f"folder, its zip, or a folder holding {release.folder}/"
        )
    env_root = os.environ.get(DATA_DIR_ENV)
    if env_root:
        for candidate in (
            Path(env_root) / release.folder,
            Path(env_root) / f"{release.folder}.zip",
        ):
            if candidate.exists():
                return candidate
    return None


def _not_found(release: MovieLensRelease) -> str:
    env_root = os.environ.get(DATA_DIR_ENV)
    env_path = f"{env_root}/{release.folder}" if env_root else f"${DATA_DIR_ENV}/{release.folder}"
    tfds_name = f"movielens/{release.tfds_version}-ratings" if release.tfds_version else None
    tfds_hint = (
        f"let TFDS download {tfds_name!r} (needs internet)"
        if tfds_name
        else "TFDS has no config for this release"
    )
    return (
        f"{release.name} not found. Either pass data_dir= (CLI: --data-dir) pointing at the "
        f"{release.folder} folder or {release.folder}.zip; or put it at {env_path} "
        f"(or {env_path}.zip; {DATA_DIR_ENV} is {'set' if env_root else 'unset'}); or "
        f"{tfds_hint}."
    )


def _read_files(
    release: MovieLensRelease, files: DatasetFiles, on_bad_rows: OnBadRows, duplicates: Duplicates
) -> tuple[pd.DataFrame, pd.DataFrame, ReadReport]:
    ratings_name, movies_name, users_name = _FILES[release.file_format]
    report = ReadReport()
    movie_parser = {"100k": parse_100k_movies, "1m": parse_1m_movies, "csv": parse_csv_movies}
    movies = movie_parser[release.file_format](
        files.read_bytes(movies_name), files.display(movies_name), on_bad_rows, report
    )
    users: UserTable | None = None
    if users_name is not None:
        user_parser = parse_100k_users if release.file_format == "100k" else parse_1m_users
        users = user_parser(
            files.read_bytes(users_name), files.display(users_name), on_bad_rows, report
        )
    layout = {"100k": LAYOUT_100K, "1m": LAYOUT_1M, "csv": LAYOUT_CSV}[release.file_format]
    rows = read_rating_file(
        files.read_bytes(ratings_name),
        files.display(ratings_name),
        layout,
        on_bad_rows=on_bad_rows,
        report=report,
    )
    movie_index = _lookup(rows.movie_id, movies.movie_id)
    user_index = _lookup(rows.user_id, users.user_id) if users is not None else None
    keep = np.ones(len(rows.rating), dtype=bool)
    problems = [
        (
            movie_index,
            layout.column_names[1],
            rows.movie_id,
            "movie not in catalogue",
            f"a movie id listed in {movies_name}",
        )
    ]
    if user_index is not None:
        problems.append(
            (
                user_index,
                layout.column_names[0],
                rows.user_id,
                "user not in users file",
                f"a user id listed in {users_name}",
            )
        )
    for index, column, values, problem, expected in problems:
        missing = index < 0
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            error = DataError(
                problem,
                path=files.display(ratings_name),
                line=int(rows.line[first]),
                column=column,
                value=values[first].as_py(),
                expected=expected,
            )
            if on_bad_rows == "raise":
                raise error
            report.drop(problem, count=int((missing & keep).sum()), example=str(error))
            keep &= ~missing
    if not keep.all():
        rows = rows.take(keep)
        movie_index = movie_index[keep]
        user_index = user_index[keep] if user_index is not None else None
    ratings = _ratings_frame(release, rows, movies, movie_index, users, user_index)
    ratings = apply_duplicate_policy(
        ratings, duplicates, files.display(ratings_name), report, lines=rows.line
    )
    return ratings, movies_frame(movies), report


def _lookup(ids: pa.Array, catalogue: list[str]) -> np.ndarray:
    """Row of each id in `catalogue` (the last row when an id repeats, as TFDS's dict does),
    -1 when absent. Shape `[len(ids)]`."""
    last_row = {key: row for row, key in enumerate(catalogue)}
    keys = pa.array(list(last_row), pa.string())
    position = pc.index_in(ids, value_set=keys).fill_null(-1).to_numpy(zero_copy_only=False)
    rows = np.append(np.fromiter(last_row.values(), np.int64, len(last_row)), -1)
    return rows[position]


def movies_frame(movies: MovieTable) -> pd.DataFrame:
    """The `-movies` examples as a frame: `movie_id`, `movie_title`, `movie_genres`."""
    table = pa.table(
        {
            "movie_id": pa.array(movies.movie_id, pa.string()),
            "movie_title": pa.array(movies.movie_title, pa.string()),
            "movie_genres": pa.array(movies.movie_genres, GENRES_TYPE),
        }
    )
    return _to_pandas(table)


def _ratings_frame(
    release: MovieLensRelease,
    rows: RatingColumns,
    movies: MovieTable,
    movie_index: np.ndarray,
    users: UserTable | None,
    user_index: np.ndarray | None,
) -> pd.DataFrame:
    take_movie = pa.array(movie_index)
    columns: dict[str, pa.Array | np.ndarray] = {
        "movie_id": rows.movie_id,
        "movie_title": pa.array(movies.movie_title, pa.string()).take(take_movie),
        "movie_genres": pa.array(movies.movie_genres, GENRES_TYPE).take(take_movie),
        "user_id": rows.user_id,
        "user_rating": rows.rating,
        "timestamp": rows.timestamp,
    }
    if users is not None and user_index is not None:
        take_user = pa.array(user_index)
        columns["user_gender"] = users.user_gender[user_index]
        columns["bucketized_user_age"] = users.bucketized_user_age[user_index]
        columns["user_occupation_label"] = users.user_occupation_label[user_index]
        for text in ("user_occupation_text", "user_zip_code"):
            columns[text] = pa.array(getattr(users, text), pa.string()).take(take_user)
        if users.raw_user_age is not None:
            columns["raw_user_age"] = users.raw_user_age[user_index]
    frame = _to_pandas(pa.table({name: columns[name] for name in release.columns}))
    frame.index = pd.Index(rows.row)
    return frame


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(
        types_mapper={GENRES_TYPE: pd.ArrowDtype(GENRES_TYPE)}.get, split_blocks=True
    )
