"""What each MovieLens release holds and how TFDS names it: the `movielens/<config>` schema.

The constants mirror `tensorflow_datasets/structured/movielens.py` (TFDS 4.9.10): the 21 genre
names and 22 occupation labels of its `ClassLabel` features, the ml-100k genre-flag order and
occupation conversion, the ml-1m occupation codes and the age buckets. Keeping them here lets
the local readers yield exactly the TFDS examples without importing TensorFlow.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

FileFormat = Literal["100k", "1m", "csv"]

# Index = ClassLabel value of `movie_genres` in every `movielens/*` config.
GENRE_NAMES: tuple[str, ...] = (
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "IMAX",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "Unknown",
    "War",
    "Western",
    "(no genres listed)",
)

# Index = ClassLabel value of `user_occupation_label` (100k-ratings, 1m-ratings).
OCCUPATION_LABELS: tuple[str, ...] = (
    "academic/educator",
    "artist",
    "clerical/admin",
    "customer service",
    "doctor/health care",
    "entertainment",
    "executive/managerial",
    "farmer",
    "homemaker",
    "lawyer",
    "librarian",
    "other/not specified",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "student",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)

# u.item's 19 genre flags, in u.genre order ("unknown" and "Children's" renamed as TFDS does).
GENRES_100K: tuple[str, ...] = (
    "Unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)

# u.user occupation word -> the label shared with ml-1m.
OCCUPATIONS_100K: dict[str, str] = {
    "administrator": "clerical/admin",
    "artist": "artist",
    "doctor": "doctor/health care",
    "educator": "academic/educator",
    "engineer": "technician/engineer",
    "entertainment": "entertainment",
    "executive": "executive/managerial",
    "healthcare": "doctor/health care",
    "homemaker": "homemaker",
    "lawyer": "lawyer",
    "librarian": "librarian",
    "marketing": "sales/marketing",
    "none": "other/not specified",
    "other": "other/not specified",
    "programmer": "programmer",
    "retired": "retired",
    "salesman": "sales/marketing",
    "scientist": "scientist",
    "student": "student",
    "technician": "technician/engineer",
    "writer": "writer",
}

# users.dat occupation code (index) -> text; both student kinds share the label "student".
OCCUPATIONS_1M: tuple[str, ...] = (
    "other/not specified",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)
STUDENT_OCCUPATIONS_1M = ("K-12 student", "college/grad student")

AGE_THRESHOLDS: tuple[int, ...] = (18, 25, 35, 45, 50, 56)
AGE_CODES_1M: tuple[int, ...] = (1, *AGE_THRESHOLDS)

MOVIE_COLUMNS: tuple[str, ...] = ("movie_id", "movie_title", "movie_genres")
RATING_COLUMNS: tuple[str, ...] = ("user_id", "user_rating", "timestamp")
DEMOGRAPHIC_COLUMNS: tuple[str, ...] = (
    "user_gender",
    "bucketized_user_age",
    "user_occupation_label",
    "user_occupation_text",
    "user_zip_code",
)


def occupation_label(text: str) -> int:
    """The `user_occupation_label` index of an ml-1m occupation text or a shared label."""
    label = "student" if text in STUDENT_OCCUPATIONS_1M else text
    return OCCUPATION_LABELS.index(label)


def bucketize_age(ages: np.ndarray) -> np.ndarray:
    """TFDS age buckets: the largest of 18, 25, 35, 45, 50, 56 that is <= age, else 1.

    Args:
        ages: raw ages, shape `[num_users]`.

    Returns:
        float32 buckets in {1, 18, 25, 35, 45, 50, 56}, shape `[num_users]`.
    """
    buckets = np.asarray((1, *AGE_THRESHOLDS), dtype=np.float32)
    return buckets[np.searchsorted(AGE_THRESHOLDS, ages, side="right")]


@dataclasses.dataclass(frozen=True)
class MovieLensRelease:
    """One MovieLens release: where its files live and how TFDS names it.

    Attributes:
        name: the dataset name used across tfrs_mtl, e.g. `movielens-100k`.
        folder: the official folder name (also the zip's top folder), e.g. `ml-100k`.
        file_format: `100k` (u.data/u.item/u.user), `1m` (`::` .dat) or `csv` (ml-latest).
        tfds_version: the TFDS format version (`100k` -> `movielens/100k-ratings`), or None
            when TFDS has no config for it.
    """

    name: str
    folder: str
    file_format: FileFormat
    tfds_version: str | None

    @property
    def columns(self) -> tuple[str, ...]:
        """The ratings columns, in TFDS feature order."""
        if self.file_format == "csv":
            return (*MOVIE_COLUMNS, *RATING_COLUMNS)
        extra = ("raw_user_age",) if self.file_format == "100k" else ()
        return (*MOVIE_COLUMNS, *RATING_COLUMNS, *DEMOGRAPHIC_COLUMNS, *extra)


RELEASES: dict[str, MovieLensRelease] = {
    release.name: release
    for release in (
        MovieLensRelease("movielens-100k", "ml-100k", "100k", "100k"),
        MovieLensRelease("movielens-1m", "ml-1m", "1m", "1m"),
        MovieLensRelease("movielens-latest-small", "ml-latest-small", "csv", "latest-small"),
        MovieLensRelease("movielens-20m", "ml-20m", "csv", "20m"),
        MovieLensRelease("movielens-25m", "ml-25m", "csv", "25m"),
        MovieLensRelease("movielens-latest", "ml-latest", "csv", None),
    )
}
MOVIELENS_NAMES: tuple[str, ...] = tuple(RELEASES)


def get_release(name: str) -> MovieLensRelease:
    """The release called `name`; raises `ValueError` listing the known names."""
    try:
        return RELEASES[name]
    except KeyError:
        raise ValueError(
            f"unknown MovieLens dataset {name!r}; expected one of {list(MOVIELENS_NAMES)}"
        ) from None
