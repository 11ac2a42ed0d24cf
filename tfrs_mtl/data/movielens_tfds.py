"""MovieLens through TensorFlow Datasets: the download fallback and TFDS's example order.

TFDS writes a split's examples sorted by `md5(split_name + str(key))` (see
`tensorflow_datasets/core/shuffle.py` and `hashing.py`), where MovieLens's key is the 0-based
row of the ratings file. So `tfds.load("movielens/100k-ratings", split="train")` yields u.data's
row 16399 (user 138, movie 357) first, the example every TFRS tutorial prints.
`tfds_order` reproduces that order from the keys alone, so that files read locally give the
TFRS tutorials' shuffles exactly.
"""

from __future__ import annotations

import hashlib
import socket
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from tfrs_mtl.data.errors import DataNotFoundError
from tfrs_mtl.data.movielens_schema import MovieLensRelease

GENRES_TYPE = pa.list_(pa.int64())
DOWNLOAD_HOST = "files.grouplens.org"
_TEXT_FEATURES = (
    "movie_id",
    "movie_title",
    "user_id",
    "user_occupation_text",
    "user_zip_code",
)


def tfds_order(keys: np.ndarray | pd.Index, split: str = "train") -> np.ndarray:
    """Positions that sort `keys` into the order TFDS stores (and yields) their examples.

    Args:
        keys: TFDS example keys, shape `[num_examples]` (for MovieLens, ratings-file rows).
        split: the split name, TFDS's hash salt.

    Returns:
        int64 positions into `keys`, shape `[num_examples]`: `keys[tfds_order(keys)]` is the
        TFDS order. Takes about 1 s per million keys (one md5 each).
    """
    salted = hashlib.md5(split.encode("utf-8"), usedforsecurity=False)
    digests = bytearray()
    for key in np.asarray(keys).tolist():
        digest = salted.copy()
        digest.update(str(key).encode("utf-8"))
        digests += digest.digest()
    halves = np.frombuffer(bytes(digests), dtype=">u8").reshape(-1, 2)
    return np.lexsort((halves[:, 1], halves[:, 0])).astype(np.int64)


def in_tfds_order(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` reordered as TFDS yields it; its index must hold the TFDS example keys."""
    return frame.iloc[tfds_order(frame.index)]


def load_from_tfds(release: MovieLensRelease, not_found: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Loads `movielens/<version>-ratings` and `-movies` with `tfds.load`, in file order.

    Raises:
        DataNotFoundError: TFDS has no config for `release`, or it cannot be loaded (offline
            and not prepared in the TFDS data folder); the message is `not_found` plus the
            cause.
    """
    if release.tfds_version is None:
        raise DataNotFoundError(not_found)
    try:
        import tensorflow_datasets as tfds

        prepared = all(
            tfds.builder(f"movielens/{release.tfds_version}-{table}").is_prepared()
            for table in ("ratings", "movies")
        )
        # Offline, TFDS retries its download for minutes; fail fast instead.
        if not prepared and not _can_reach(DOWNLOAD_HOST):
            raise DataNotFoundError(f"{not_found} (Offline: cannot reach {DOWNLOAD_HOST}.)")
        ratings = tfds.load(f"movielens/{release.tfds_version}-ratings", split="train")
        movies = tfds.load(f"movielens/{release.tfds_version}-movies", split="train")
    except DataNotFoundError:
        raise
    except Exception as error:  # any download or preparation failure means "not available"
        raise DataNotFoundError(f"{not_found} TFDS failed with: {error}") from error
    ratings_frame = frame_from_tf_dataset(ratings, release.columns)
    movies_frame = frame_from_tf_dataset(movies, ("movie_id", "movie_title", "movie_genres"))
    # TFDS yields examples in hash order; the key of the example at each position is the
    # inverse of that order, so sorting by key restores file order.
    for frame in (ratings_frame, movies_frame):
        frame.index = pd.Index(_keys_of_tfds_positions(len(frame)))
    return ratings_frame.sort_index(), movies_frame.sort_index().reset_index(drop=True)


def _can_reach(host: str, timeout_seconds: float = 5.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout_seconds):
            return True
    except OSError:
        return False


def _keys_of_tfds_positions(num_examples: int) -> np.ndarray:
    return tfds_order(np.arange(num_examples))


def frame_from_tf_dataset(
    dataset: Any, columns: tuple[str, ...], batch_size: int = 100_000
) -> pd.DataFrame:
    """Collects a TFDS-style `tf.data.Dataset` of MovieLens examples into a frame.

    Args:
        dataset: yields dicts of scalars plus a `[None]` int64 `movie_genres` vector.
        columns: the features to keep, in order.
        batch_size: examples converted per step.

    Returns:
        A frame with the `load_movielens` dtypes, index 0..n-1 in the dataset's order.
    """
    import tensorflow as tf

    # `ragged_batch` preallocates for the whole batch size and is very slow; padding the
    # genre vectors with -1 (never a genre index) and counting them back is not.
    padding = {
        name: tf.constant(-1, tf.int64) if name == "movie_genres" else tf.zeros([], spec.dtype)
        for name, spec in dataset.element_spec.items()
    }
    parts: dict[str, list[Any]] = {name: [] for name in columns}
    for batch in dataset.padded_batch(batch_size, padding_values=padding):
        for name in columns:
            array = batch[name].numpy()
            if name == "movie_genres":
                lengths = (array >= 0).sum(axis=1)
                offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
                values = pa.array(array[array >= 0], pa.int64())
                parts[name].append(pa.ListArray.from_arrays(pa.array(offsets), values))
            elif name in _TEXT_FEATURES:
                parts[name].append(pa.array(array.tolist(), pa.binary()).cast(pa.string()))
            else:
                parts[name].append(pa.array(array))
    table = pa.table({name: pa.chunked_array(chunks) for name, chunks in parts.items()})
    return table.to_pandas(types_mapper={GENRES_TYPE: pd.ArrowDtype(GENRES_TYPE)}.get)
