"""`Catalogue`: one row of candidate features per training item, with its sampling probability.

Built from the TRAINING arrays only (an item's features are those of its first training
example). It backs the full-catalogue softmax (every item a negative at every step), the
logQ correction (an item's probability of appearing in a batch is its training frequency)
and the full-catalogue top-k metrics computed outside training steps. Saved beside the model
as `catalogue.npz` (no pickles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl._npz_files import arrays_with_prefix, read_npz
from tfrs_mtl.features import to_key_strings


def key_strings(values: np.ndarray) -> np.ndarray:
    """Ids as the unicode strings the model compares them by (int 42 -> "42")."""
    keys = to_key_strings(tf.constant(np.asarray(values))).numpy()
    return np.array([key.decode("utf-8") for key in keys], dtype=str)


def row_lookup(keys: Any, name: str) -> tf.lookup.StaticHashTable:
    """A table from string keys to their rows (int64), -1 for an absent key: the catalogue's
    items by `key_strings` of their ids, or a label vocabulary's values."""
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(np.asarray(keys, dtype=str)), tf.range(len(keys), dtype=tf.int64)
        ),
        default_value=-1,
        name=name,
    )


class Catalogue:
    """Candidate features `[num_items]` (or `[num_items, max_len]`) and probabilities.

    Args:
        features: Candidate feature name -> array, one row per item.
        id_feature: The candidate id feature (a key of `features`).
        probabilities: `[num_items]` share of training examples with each item.
        labels: Label key -> array, one row per item: the labels of item-attribute tasks
            trained over the catalogue (`TaskConfig.loss_over="batch_and_catalogue"`). Kept apart
            from `features`, which are what the candidate tower and serving read.

    Raises:
        ValueError: a feature or label array has not one row per item.
    """

    def __init__(
        self,
        features: Mapping[str, np.ndarray],
        id_feature: str,
        probabilities: np.ndarray,
        labels: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.features = {name: np.asarray(values) for name, values in features.items()}
        self.id_feature = id_feature
        self.probabilities = np.asarray(probabilities, np.float32)
        self.keys = key_strings(self.features[id_feature])
        self.labels = {name: np.asarray(values) for name, values in (labels or {}).items()}
        for kind, arrays in (("feature", self.features), ("label", self.labels)):
            for name, values in arrays.items():
                if len(values) != len(self.keys):
                    raise ValueError(
                        f"catalogue {kind} {name!r} has {len(values)} rows for "
                        f"{len(self.keys)} items"
                    )

    @property
    def num_items(self) -> int:
        return len(self.keys)

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        id_feature: str,
        feature_names: Sequence[str],
        label_keys: Sequence[str] = (),
    ) -> Catalogue:
        """The catalogue of the items in training `arrays` (vectorized; no per-row Python);
        `label_keys` are kept as `labels`, each item's from its first row.

        Raises:
            KeyError: a label key is not in `arrays`.
        """
        keys = key_strings(arrays[id_feature])
        _, first_rows, counts = np.unique(keys, return_index=True, return_counts=True)
        names = dict.fromkeys([id_feature, *feature_names])
        features = {name: np.asarray(arrays[name])[first_rows] for name in names}
        missing = sorted(set(label_keys) - set(arrays))
        if missing:
            raise KeyError(f"catalogue labels {missing} are not in the training arrays")
        labels = {key: np.asarray(arrays[key])[first_rows] for key in dict.fromkeys(label_keys)}
        return cls(features, id_feature, counts / counts.sum(), labels)

    def tensors(self, names: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
        """The features (those of `names`, when given) as constant tensors (strings as
        `tf.string`)."""
        wanted = set(self.features) if names is None else set(names)
        return {
            name: tf.constant(values) for name, values in self.features.items() if name in wanted
        }

    def save(self, path: str | Path) -> None:
        arrays: dict[str, np.ndarray] = {
            f"feature:{name}": _storable(values) for name, values in self.features.items()
        }
        arrays.update((f"label:{name}", _storable(values)) for name, values in self.labels.items())
        arrays["probabilities"] = self.probabilities
        arrays["id_feature"] = np.array(self.id_feature)
        with Path(path).open("wb") as file:
            np.savez(file, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Catalogue:
        """Reads a file written by `save`; never unpickles.

        Raises:
            ValueError: `path` is not such a file (names the file and what was wrong).
        """
        return read_npz(path, "item-catalogue", cls._from_stored)

    @classmethod
    def _from_stored(cls, stored: Any) -> Catalogue:
        features = arrays_with_prefix(stored, "feature:")
        labels = arrays_with_prefix(stored, "label:")
        return cls(features, str(stored["id_feature"]), stored["probabilities"], labels)


def _storable(values: np.ndarray) -> np.ndarray:
    # Object arrays of str would need pickling; fixed-width unicode does not.
    return values.astype(str) if values.dtype == object else values
