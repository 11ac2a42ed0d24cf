"""The catalogue: candidate features, one row per item, checked and encoded in batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from tfrs_mtl.serving.interfaces import ServableModel

# Exclusion lists are padded to a rectangle with this id; no catalogue item may carry it.
STRING_PADDING_ID = ""
INTEGER_PADDING_ID = -1
#: Queries per query-encoder call when a whole user table is encoded.
QUERY_BATCH_SIZE = 2048


def padding_id_for(dtype: tf.DType) -> str | int:
    """The exclusion padding id for candidate ids of `dtype` ("" for strings, -1 for ints)."""
    return STRING_PADDING_ID if dtype == tf.string else INTEGER_PADDING_ID


def prepare_catalogue(
    model: ServableModel, catalogue: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Checks the catalogue against the model and returns its candidate columns.

    Args:
        model: gives the candidate feature names, their signature and the id feature.
        catalogue: `dict[feature, array [num_items] or [num_items, max_len]]`; extra columns
            are dropped.

    Returns:
        The columns the model reads (id feature included), converted to the signature dtypes.

    Raises:
        ValueError: naming the missing column, the column of the wrong length or dtype, the
            missing (NaN) or infinite number, the duplicated id, or the id equal to the
            exclusion padding id.
    """
    signature = model.feature_signature("candidate")
    id_feature = model.candidate_id_feature
    names = list(dict.fromkeys([id_feature, *model.candidate_feature_names]))
    missing = [name for name in names if name not in catalogue]
    if missing:
        raise ValueError(
            f"the catalogue lacks candidate feature(s) {missing}; it has {sorted(catalogue)}"
        )
    num_items = len(catalogue[id_feature])
    if num_items == 0:
        raise ValueError("the catalogue is empty: it needs at least one item")
    columns: dict[str, np.ndarray] = {}
    for name in names:
        values = np.asarray(catalogue[name])
        if len(values) != num_items:
            raise ValueError(
                f"catalogue column {name!r} has {len(values)} rows; {id_feature!r} has {num_items}"
            )
        spec = signature.get(name)
        try:
            values = tf.constant(values, dtype=None if spec is None else spec.dtype).numpy()
        except (TypeError, ValueError, tf.errors.InvalidArgumentError) as error:
            expected = "a tensor" if spec is None else spec.dtype.name
            raise ValueError(
                f"catalogue column {name!r} (dtype {values.dtype}) cannot be read as "
                f"{expected}: {error}"
            ) from None
        if spec is not None and spec.shape.rank not in (None, values.ndim):
            raise ValueError(
                f"catalogue column {name!r} has shape {values.shape}; expected rank "
                f"{spec.shape.rank} ({spec.shape})"
            )
        columns[name] = values
    ids = columns[id_feature]
    for name, values in columns.items():
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            # The towers and the ranking stack would turn NaN into an arbitrary score.
            bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
            shown = [
                value.decode() if isinstance(value, bytes) else value for value in ids[bad][:5]
            ]
            raise ValueError(
                f"catalogue column {name!r} is missing (NaN) or infinite for {int(bad.sum())} "
                f"item(s), e.g. {id_feature} {shown}; give those items a value "
                f"(`tfrs-mtl complete-attributes` completes a missing one) or leave them out"
            )
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"catalogue ids must be unique; repeated: {unique[counts > 1][:5]}")
    padding = padding_id_for(tf.string if ids.dtype == object else tf.as_dtype(ids.dtype))
    padding_value = padding.encode() if isinstance(padding, str) else padding
    if (ids == padding_value).any():
        raise ValueError(
            f"catalogue id {padding!r} is reserved as the exclusion padding id; rename that item"
        )
    return columns


def read_items(
    path: str | Path, model: ServableModel, *, text_columns: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """Reads new catalogue items from a CSV or Parquet file (by suffix) for
    `Recommender.add_items`: one row per item, a column per candidate feature, and each of
    `text_columns` the file has (a display label: `movie_title`) as text, "" where empty
    (`add_items` drops the columns it does not read).

    A multi-valued feature (genres, ...) is a list column in Parquet and `|`-separated values
    in CSV (`"3|7"`, empty for none); it is padded to the widest row with the padding id.
    An empty cell of a number column (a price) reads as missing (NaN), which `add_items`
    refuses, naming the items (`prepare_catalogue`).

    Raises:
        ValueError: an unknown suffix, a missing column, or a value the column cannot hold.
    """
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{path}: expected a .csv or .parquet file of items, got {suffix!r}")
    signature = model.feature_signature("candidate")
    names = list(dict.fromkeys([model.candidate_id_feature, *model.candidate_feature_names]))
    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        frame = pd.read_parquet(path)
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column {missing}; it has {list(frame.columns)}")
    items: dict[str, np.ndarray] = {}
    for name in names:
        spec = signature.get(name)
        values = frame[name].to_numpy()
        dtype = tf.string if spec is None else spec.dtype
        if dtype.is_floating and suffix == ".csv":
            values = np.where(values == "", "nan", values)  # an empty cell: a missing number
        if spec is not None and spec.shape.rank == 2:
            rows = [
                [v for v in str(cell).split("|") if v] if isinstance(cell, str) else list(cell)
                for cell in values
            ]
            width = max([len(row) for row in rows] + [1])
            padding = padding_id_for(dtype)
            values = np.array(
                [row + [padding] * (width - len(row)) for row in rows],
                dtype=object if dtype == tf.string else None,
            )
        try:
            items[name] = (
                np.asarray(values).astype(object)
                if dtype == tf.string
                else np.asarray(values).astype(dtype.as_numpy_dtype)
            )
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{path}: column {name!r} cannot be read as {dtype.name}: {error}"
            ) from None
    for name in text_columns:
        if name in frame.columns and name not in items:
            items[name] = np.array(
                ["" if pd.isna(value) else str(value) for value in frame[name]], dtype=object
            )
    return items


def encode_catalogue(
    candidate_encoder: tf.keras.Model,
    columns: Mapping[str, np.ndarray],
    feature_names: tuple[str, ...],
    batch_size: int = 4096,
    progress: bool = True,
) -> np.ndarray:
    """Runs the candidate encoder over the whole catalogue in batches.

    Args:
        candidate_encoder: raw candidate features `[batch]` -> `[batch, embedding_dim]`.
        columns: the prepared catalogue (`prepare_catalogue`).
        feature_names: the columns the encoder reads.
        batch_size: items per encoder call.
        progress: show a tqdm progress bar.

    Returns:
        `[num_items, embedding_dim]` float32 embeddings in catalogue order.
    """
    return encode_in_batches(
        candidate_encoder, columns, feature_names, batch_size, progress, "Encoding catalogue"
    )


def encode_in_batches(
    encoder: tf.keras.Model,
    columns: Mapping[str, Any],
    feature_names: tuple[str, ...],
    batch_size: int,
    progress: bool = False,
    description: str = "Encoding",
) -> np.ndarray:
    """`encoder` over every row of `columns`, `batch_size` rows per call, `[rows, dim]`
    float32 in row order: the peak memory follows the batch, not the rows (a query tower's
    clustered history pooling holds several `[rows, history length, dim]` tensors).

    Args:
        encoder: raw features `[batch]` -> `[batch, dim]`.
        columns: arrays or tensors with one row per example.
        feature_names: the columns the encoder reads.
        batch_size: rows per encoder call.
        progress: show a tqdm progress bar.
        description: the progress bar's label.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be at least 1")
    num_rows = min((int(columns[name].shape[0]) for name in feature_names), default=0)
    batches = [
        np.asarray(
            encoder(
                {name: columns[name][start : start + batch_size] for name in feature_names},
                training=False,
            ),
            np.float32,
        )
        for start in tqdm(
            range(0, num_rows, batch_size), desc=description, unit="batch", disable=not progress
        )
    ]
    if not batches:  # no rows: the encoder gives the `[0, dim]` shape
        features = {name: columns[name] for name in feature_names}
        return np.asarray(encoder(features, training=False), np.float32)
    return np.concatenate(batches, axis=0)
