"""`FeatureVocabularies`: everything fitted on training data that the encoders need.

Fitted once on the TRAINING arrays only (values seen only in validation or test data map to
out-of-vocabulary rows), saved beside the model as JSON, and fingerprinted for serving
manifests. Vocabularies are ordered by frequency (descending), then by value, so that a fit is
deterministic and row `i` of a table is the `i`-th most frequent value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.config import Config, require
from tfrs_mtl.features.errors import FeatureError
from tfrs_mtl.features.feature_config import FeatureConfig, FeatureSpec
from tfrs_mtl.features.raw_values import padding_mask, to_key_strings, tokenize

FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class NumericStatistics(Config):
    """Training mean and standard deviation of a numeric feature (after `log1p` if used)."""

    mean: float
    std: float

    def validate(self) -> None:
        require(self.std > 0, f"NumericStatistics.std={self.std} must be > 0")


@dataclasses.dataclass(frozen=True)
class TimeStatistics(Config):
    """Training quantile bucket edges, mean and standard deviation of unix seconds."""

    bucket_edges: tuple[float, ...]
    mean: float
    std: float

    def validate(self) -> None:
        require(self.std > 0, f"TimeStatistics.std={self.std} must be > 0")
        edges = list(self.bucket_edges)
        require(edges == sorted(set(edges)), "TimeStatistics.bucket_edges must increase strictly")


@dataclasses.dataclass(frozen=True)
class FeatureVocabularies(Config):
    """Fitted vocabularies (by table name) and statistics (by feature name).

    Attributes:
        tables: embedding table name -> its vocabulary (string keys, most frequent first), for
            every table looked up by vocabulary (ids, categoricals, multi-hot values, text
            tokens). Hashed tables have no entry.
        numeric: numeric feature name -> mean and std.
        time: time feature name -> bucket edges, mean and std.
        format_version: bumped when the meaning of the JSON changes.

    Example:
        >>> vocabularies = FeatureVocabularies.fit(spec, train_arrays)
        >>> vocabularies.save("model/vocabularies.json")
        >>> FeatureVocabularies.load("model/vocabularies.json").fingerprint() == \
        ...     vocabularies.fingerprint()
        True
    """

    tables: dict[str, tuple[str, ...]]
    numeric: dict[str, NumericStatistics]
    time: dict[str, TimeStatistics]
    format_version: int = FORMAT_VERSION

    def validate(self) -> None:
        require(
            self.format_version == FORMAT_VERSION,
            f"format_version={self.format_version}: this version reads {FORMAT_VERSION}",
        )
        for table, values in self.tables.items():
            duplicates = len(values) - len(set(values))
            require(duplicates == 0, f"tables.{table}: {duplicates} duplicate value(s)")

    @classmethod
    def fit(cls, spec: FeatureSpec, arrays: Mapping[str, Any]) -> FeatureVocabularies:
        """Fits vocabularies and statistics on training arrays.

        Args:
            spec: the declared features.
            arrays: feature name -> training values (numpy arrays, lists or pandas Series):
                `[num_examples]` for scalar features; `[num_examples, max_len]` padded with -1
                or "", or a 1-D object array of sequences, for `multi_hot`. Extra keys are
                ignored.

        Returns:
            The fitted vocabularies. Tables shared by several features are fitted on the union
            of their values.

        Raises:
            FeatureError: a declared feature is missing or has unusable values.
        """
        counters: dict[str, Counter[str]] = {}
        limits: dict[str, int] = {}
        numeric: dict[str, NumericStatistics] = {}
        time: dict[str, TimeStatistics] = {}
        for feature in spec.features:
            values = _require_array(feature, arrays)
            if feature.kind == "numeric":
                numeric[feature.name] = _fit_numeric(feature, values)
            elif feature.kind == "time":
                time[feature.name] = _fit_time(feature, values)
            elif feature.uses_vocabulary:
                counter = counters.setdefault(feature.table_name, Counter())
                keys = _text_tokens(values) if feature.kind == "text" else _keys(feature, values)
                # Hash-based counting in TensorFlow: sorting Python bytes objects is far slower.
                unique, _, counts = tf.unique_with_counts(keys, out_idx=tf.int64)
                counter.update(
                    dict(zip(unique.numpy().tolist(), counts.numpy().tolist(), strict=True))
                )
                limit = (
                    feature.max_tokens if feature.kind == "text" else feature.max_vocabulary_size
                )
                limits[feature.table_name] = limit
        tables = {
            table: _ordered_vocabulary(counter, limits[table])
            for table, counter in counters.items()
        }
        return cls(tables=tables, numeric=numeric, time=time)

    def vocabulary(self, table: str) -> tuple[str, ...]:
        """The vocabulary of `table`; raises `FeatureError` when it was not fitted."""
        if table not in self.tables:
            raise FeatureError(
                f"table {table!r} has no fitted vocabulary; fitted tables: {sorted(self.tables)}"
            )
        return self.tables[table]

    def check_fitted(self, spec: FeatureSpec) -> None:
        """Raises `FeatureError` naming every feature of `spec` these vocabularies lack."""
        missing = []
        statistics: dict[str, Mapping[str, Config]] = {"numeric": self.numeric, "time": self.time}
        for feature in spec.features:
            if feature.uses_vocabulary and feature.table_name not in self.tables:
                missing.append(f"{feature.name} (table {feature.table_name!r})")
            elif feature.kind in statistics and feature.name not in statistics[feature.kind]:
                missing.append(feature.name)
        if missing:
            raise FeatureError(
                f"vocabularies were not fitted for feature(s) {', '.join(missing)}; refit with "
                "FeatureVocabularies.fit(spec, train_arrays)"
            )

    def to_canonical_json(self) -> str:
        """The JSON whose sha256 is the fingerprint: sorted keys, no whitespace."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def fingerprint(self) -> str:
        """sha256 hex digest of the canonical JSON; changes whenever any row mapping does."""
        return hashlib.sha256(self.to_canonical_json().encode("utf-8")).hexdigest()

    def save(self, path: str | Path) -> None:
        """Writes the vocabularies as (readable, deterministic) JSON."""
        text = json.dumps(self.to_dict(), sort_keys=True, indent=1, ensure_ascii=False)
        Path(path).write_text(text + "\n", encoding="utf-8")


def _require_array(feature: FeatureConfig, arrays: Mapping[str, Any]) -> np.ndarray:
    if feature.name not in arrays:
        raise FeatureError(
            f"feature {feature.name!r} is declared but missing from the training arrays; "
            f"found keys {sorted(arrays)}"
        )
    values = np.asarray(arrays[feature.name])
    if values.ndim == 0 or (values.ndim > 1 and feature.kind != "multi_hot") or values.ndim > 2:
        raise FeatureError(
            f"feature {feature.name!r} ({feature.kind}): expected a 1-D array"
            f"{' or a 2-D padded array' if feature.kind == 'multi_hot' else ''}, "
            f"got shape {values.shape}"
        )
    if len(values) == 0:
        raise FeatureError(f"feature {feature.name!r}: no training values to fit on")
    return values


def _flatten_multi_valued(feature: FeatureConfig, values: np.ndarray) -> np.ndarray:
    """A 1-D array of the values of a multi-valued feature, padding dropped."""
    if values.ndim == 1 and values.dtype == object and len(values) and not np.isscalar(values[0]):
        values = np.concatenate([np.asarray(row).reshape(-1) for row in values])
    flat = tf.constant(values.reshape(-1))
    return flat[padding_mask(flat)].numpy()


def _keys(feature: FeatureConfig, values: np.ndarray) -> tf.Tensor:
    if feature.kind == "multi_hot":
        values = _flatten_multi_valued(feature, values)
    try:
        keys = to_key_strings(tf.constant(values))
    except (TypeError, ValueError) as error:
        raise FeatureError(
            f"feature {feature.name!r}: cannot use values of dtype {values.dtype} as ids: {error}"
        ) from None
    return tf.reshape(keys, [-1])


def _text_tokens(values: np.ndarray) -> tf.Tensor:
    return tokenize(tf.constant(values, dtype=tf.string)).flat_values


def _ordered_vocabulary(counter: Counter[str], limit: int) -> tuple[str, ...]:
    """Most frequent first, ties by value; `limit` 0 keeps everything."""
    decoded = Counter[str]()
    for key, count in counter.items():
        text = key.decode("utf-8", errors="replace") if isinstance(key, bytes) else str(key)
        decoded[text] += count
    ordered = sorted(decoded.items(), key=lambda item: (-item[1], item[0]))
    if limit:
        ordered = ordered[:limit]
    return tuple(value for value, _ in ordered)


def _finite_float64(feature: FeatureConfig, values: np.ndarray) -> np.ndarray:
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        raise FeatureError(
            f"feature {feature.name!r} ({feature.kind}): expected numbers, got dtype {values.dtype}"
        ) from None
    if not np.isfinite(numbers).all():
        bad = numbers[~np.isfinite(numbers)][0]
        raise FeatureError(f"feature {feature.name!r}: found non-finite value {bad}")
    return numbers


def _fit_numeric(feature: FeatureConfig, values: np.ndarray) -> NumericStatistics:
    numbers = _finite_float64(feature, values)
    if feature.use_log1p:
        if (numbers <= -1).any():
            raise FeatureError(
                f"feature {feature.name!r}: use_log1p needs values > -1, found {numbers.min()}"
            )
        numbers = np.log1p(numbers)
    std = float(numbers.std())
    return NumericStatistics(mean=float(numbers.mean()), std=std if std > 0 else 1.0)


def _fit_time(feature: FeatureConfig, values: np.ndarray) -> TimeStatistics:
    seconds = _finite_float64(feature, values)
    quantiles = np.linspace(0.0, 1.0, feature.num_buckets + 1)[1:-1]
    edges = np.unique(np.quantile(seconds, quantiles)) if len(quantiles) else np.array([])
    std = float(seconds.std())
    return TimeStatistics(
        bucket_edges=tuple(float(edge) for edge in edges),
        mean=float(seconds.mean()),
        std=std if std > 0 else 1.0,
    )
