"""`ServingData`: what a recommendation request needs beside the exported model.

An export answers for query features, but a user asking by id has only an id. For MovieLens
the other query features (age bucket, gender, occupation, last timestamp) come from the
dataset's users, so the training run stores, per known user, the query features of their
latest training row, the items they interacted with in training (excluded from their
recommendations by default) and a display label per item (`movie_title`, `category`).

It is written as `serving_data.npz` (no pickles) in the run folder and copied into every
export folder, beside the SavedModel and its manifest (unlisted files do not affect the
manifest check). A user id it does not know goes through the model's out-of-vocabulary
path: its id is passed as is (an OOV row), the other query features take their most common
value among known users.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfrs_mtl._npz_files import arrays_with_prefix, read_npz

FILE_NAME = "serving_data.npz"
_USER_PREFIX = "user:"


class ServingData:
    """Known users' query features and training items, and item display labels.

    Args:
        query_id_feature: the query id feature (e.g. `user_id`).
        users: query feature name -> `[num_users]` (or `[num_users, max_len]`), one row per
            known user; includes the id feature.
        seen_items: `[num_seen]` item ids of every user's training items, concatenated.
        seen_offsets: `[num_users + 1]` start of each user's items in `seen_items`.
        item_ids: `[num_items]` catalogue ids.
        item_labels: `[num_items]` display labels ("" when the data has none).
    """

    def __init__(
        self,
        query_id_feature: str,
        users: Mapping[str, np.ndarray],
        seen_items: np.ndarray,
        seen_offsets: np.ndarray,
        item_ids: np.ndarray,
        item_labels: np.ndarray,
    ) -> None:
        self.query_id_feature = query_id_feature
        self.users = {name: np.asarray(values) for name, values in users.items()}
        self.seen_items = np.asarray(seen_items).astype(str)
        self.seen_offsets = np.asarray(seen_offsets, np.int64)
        self.item_ids = np.asarray(item_ids).astype(str)
        self.item_labels = np.asarray(item_labels).astype(str)
        self.user_ids = self.users[query_id_feature].astype(str)
        self._user_rows = {user: row for row, user in enumerate(self.user_ids)}
        self._labels = dict(zip(self.item_ids, self.item_labels, strict=True))

    def knows(self, user_id: str) -> bool:
        return str(user_id) in self._user_rows

    def query_features(self, user_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Query features `[len(user_ids)]` of the users (unknown users: see module doc)."""
        rows = np.array([self._user_rows.get(str(user), -1) for user in user_ids], np.int64)
        features: dict[str, np.ndarray] = {}
        for name, values in self.users.items():
            if name == self.query_id_feature:
                features[name] = np.array([str(user) for user in user_ids], dtype=object)
                continue
            default = _most_common(values)
            column = values[np.maximum(rows, 0)] if len(values) else values
            if (rows < 0).any():
                column = column.copy()
                column[rows < 0] = default
            features[name] = column.astype(object) if column.dtype.kind == "U" else column
        return features

    def seen(self, user_ids: Sequence[str]) -> list[list[str]]:
        """Each user's training items (empty for unknown users)."""
        found: list[list[str]] = []
        for user in user_ids:
            row = self._user_rows.get(str(user))
            if row is None:
                found.append([])
            else:
                start, end = self.seen_offsets[row], self.seen_offsets[row + 1]
                found.append(self.seen_items[start:end].tolist())
        return found

    def label(self, item_id: str) -> str:
        return self._labels.get(str(item_id), "")

    def with_items(
        self, item_ids: Sequence[Any] | np.ndarray, item_labels: Sequence[str] | np.ndarray
    ) -> ServingData:
        """A copy with items added to the catalogue's ids and labels (items added to an
        export's index: `tfrs-mtl export --add-items`)."""
        return ServingData(
            self.query_id_feature,
            self.users,
            self.seen_items,
            self.seen_offsets,
            np.concatenate([self.item_ids, np.asarray(item_ids).astype(str)]),
            np.concatenate([self.item_labels, np.asarray(item_labels).astype(str)]),
        )

    def save(self, path: str | Path) -> Path:
        """Writes the `.npz` atomically (temporary file, then rename)."""
        path = Path(path)
        arrays = {f"{_USER_PREFIX}{name}": _storable(v) for name, v in self.users.items()}
        arrays.update(
            query_id_feature=np.array(self.query_id_feature),
            seen_items=self.seen_items,
            seen_offsets=self.seen_offsets,
            item_ids=self.item_ids,
            item_labels=self.item_labels,
        )
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with temporary.open("wb") as handle:
                np.savez(handle, allow_pickle=False, **arrays)
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)  # after a failed write (a full disk)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ServingData:
        """Reads a file written by `save`; never unpickles.

        Raises:
            ValueError: `path` is not such a file (names the file and what was wrong).
        """
        return read_npz(path, "serving-data", cls._from_stored)

    @classmethod
    def _from_stored(cls, stored: Any) -> ServingData:
        users = arrays_with_prefix(stored, _USER_PREFIX)
        return cls(
            str(stored["query_id_feature"]),
            users,
            stored["seen_items"],
            stored["seen_offsets"],
            stored["item_ids"],
            stored["item_labels"],
        )


def _storable(values: np.ndarray) -> np.ndarray:
    return values.astype(str) if values.dtype == object else values


def _most_common(values: np.ndarray) -> object:
    if len(values) == 0:
        return ""
    if values.ndim > 1:
        # A multi-valued feature (e.g. `user_history`) of an unknown user is empty: padding.
        return np.full(values.shape[1:], "" if values.dtype.kind in "OUS" else -1, values.dtype)
    unique, counts = np.unique(values, return_counts=True)
    return unique[np.argmax(counts)]
