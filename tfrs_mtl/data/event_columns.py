"""Source columns to canonical event columns, checking every value with vectorized kernels.

A reader hands over an Arrow table of source columns (text from CSV, any type from Parquet)
and a `ColumnSpec` saying which source column holds which canonical column. `parse_columns`
converts them with pyarrow compute kernels and returns, beside the values, one `BadValues` mask
per kind of problem; the reader decides whether a bad row raises or is dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tfrs_mtl.data.events import BEHAVIORS, ITEM_ATTRIBUTES, make_events_frame

CANONICAL_COLUMNS: tuple[str, ...] = (
    "user_id",
    "item_id",
    "behavior",
    "timestamp",
    *ITEM_ATTRIBUTES,
)

# Plain decimal numbers plus the spellings of NaN and infinity, so that "nan" is reported as a
# NaN price rather than as text.
_NUMBER_PATTERN = r"(?i)^[+-]?(nan|inf|infinity|([0-9]+(\.[0-9]*)?|\.[0-9]+)(e[+-]?[0-9]+)?)$"
_MAX_TIMESTAMP_DIGITS = 18  # keeps int64 from overflowing
_TIMESTAMP_LIMIT = 10**_MAX_TIMESTAMP_DIGITS


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """Where the canonical columns are in a source table and how to read them.

    Attributes:
        column_map: canonical column name -> source column name. Must hold `user_id` and
            `item_id`, and `behavior` unless `default_behavior` is set.
        behavior_map: source behaviour value -> canonical behaviour (see `BEHAVIORS`); None
            means the source already uses the canonical names.
        default_behavior: the behaviour of every row when the source has no behaviour column
            (RetailRocket's one-file-per-behaviour form).
        integer_ids: require ids to be non-negative integers (Taobao, RetailRocket).
        timestamp_unit: `"s"` or `"ms"`; milliseconds are floored to seconds.
    """

    column_map: Mapping[str, str]
    behavior_map: Mapping[str, str] | None = None
    default_behavior: str | None = None
    integer_ids: bool = False
    timestamp_unit: Literal["s", "ms"] = "s"

    def problems(self) -> list[str]:
        """Everything wrong with the spec itself, as messages naming the field and value."""
        found = []
        unknown = sorted(set(self.column_map) - set(CANONICAL_COLUMNS))
        if unknown:
            found.append(f"column_map has unknown keys {unknown}; expected {CANONICAL_COLUMNS}")
        for required in ("user_id", "item_id"):
            if required not in self.column_map:
                found.append(f"column_map lacks {required!r}")
        if ("behavior" in self.column_map) == (self.default_behavior is not None):
            found.append("give exactly one of column_map['behavior'] and default_behavior")
        targets = set((self.behavior_map or {}).values())
        if self.default_behavior is not None:
            targets.add(self.default_behavior)
        if targets - set(BEHAVIORS):
            found.append(f"behaviours {sorted(targets - set(BEHAVIORS))} are not in {BEHAVIORS}")
        if self.timestamp_unit not in ("s", "ms"):
            found.append(f"timestamp_unit={self.timestamp_unit!r}; expected 's' or 'ms'")
        return found

    @property
    def source_columns(self) -> list[str]:
        return list(dict.fromkeys(self.column_map.values()))


@dataclasses.dataclass(frozen=True)
class BadValues:
    """Rows of one source column that fail one check. `rows` is a `[num_rows]` bool mask."""

    reason: str
    source_column: str
    rows: np.ndarray
    expected: str


@dataclasses.dataclass
class ParsedColumns:
    """Canonical columns, full length; values in bad rows are placeholders to be dropped."""

    user_id: pa.Array
    item_id: pa.Array
    behavior_codes: np.ndarray
    timestamp: np.ndarray | None
    attributes: dict[str, Any]

    def to_frame(self, keep: np.ndarray | None) -> pd.DataFrame:
        """The canonical events frame of the rows where `keep` (`[num_rows]` bool) is true."""
        if keep is None or bool(keep.all()):
            return make_events_frame(
                self.user_id,
                self.item_id,
                self.behavior_codes,
                timestamp=self.timestamp,
                attributes=self.attributes,
            )
        mask = pa.array(keep)
        rows = np.flatnonzero(keep)
        attributes = {
            name: values.filter(mask) if isinstance(values, pa.Array) else values[rows]
            for name, values in self.attributes.items()
        }
        return make_events_frame(
            self.user_id.filter(mask),
            self.item_id.filter(mask),
            self.behavior_codes[rows],
            timestamp=None if self.timestamp is None else self.timestamp[rows],
            attributes=attributes,
        )


def _mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls counted as true (bad)."""
    return np.asarray(pc.fill_null(array, True).to_numpy(zero_copy_only=False), dtype=bool)


def _parse_id(
    array: pa.Array, canonical: str, source: str, integer_ids: bool
) -> tuple[pa.Array, list[BadValues]]:
    if pa.types.is_integer(array.type):
        bad = _mask(pc.invert(pc.greater_equal(pc.cast(array, pa.float64(), safe=False), 0.0)))
        problem = BadValues(f"negative {canonical}", source, bad, "a non-negative integer id")
        return pc.cast(array, pa.string()), [problem]
    text = pc.cast(array, pa.string())
    if integer_ids:
        bad = _mask(pc.invert(pc.ascii_is_decimal(text)))
        return text, [BadValues(f"non-integer {canonical}", source, bad, "a non-negative integer")]
    bad = _mask(pc.equal(pc.utf8_length(text), 0))
    return text, [BadValues(f"empty {canonical}", source, bad, "a non-empty id")]


def _parse_timestamp(array: pa.Array, source: str, unit: str) -> tuple[np.ndarray, list[BadValues]]:
    unit_name = "milliseconds" if unit == "ms" else "seconds"
    expected = f"a non-negative integer unix time in {unit_name}"
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        seconds = pc.cast(pc.cast(array, pa.timestamp("s")), pa.int64())
        values = np.asarray(pc.fill_null(seconds, 0).to_numpy(zero_copy_only=False), np.int64)
        bad = _mask(pc.is_null(seconds))
        return values, [BadValues("missing timestamp", source, bad, expected)]
    if pa.types.is_integer(array.type):
        # Compared as floats before the cast: a uint64 beyond int64 must not stop it.
        as_float = pc.cast(array, pa.float64(), safe=False)
        bad = _mask(pc.invert(pc.greater_equal(as_float, 0.0)))
        out_of_range = _mask(pc.greater_equal(as_float, float(_TIMESTAMP_LIMIT))) & ~bad
        kept = pc.if_else(pa.array(~(bad | out_of_range)), array, pa.scalar(0, array.type))
        numbers = pc.cast(kept, pa.int64())
    else:
        text = pc.cast(array, pa.string())
        bad = _mask(pc.invert(pc.ascii_is_decimal(text)))
        out_of_range = _mask(pc.greater(pc.utf8_length(text), _MAX_TIMESTAMP_DIGITS)) & ~bad
        numbers = pc.cast(pc.if_else(pa.array(~(bad | out_of_range)), text, "0"), pa.int64())
    values = np.asarray(pc.fill_null(numbers, 0).to_numpy(zero_copy_only=False), np.int64)
    if unit == "ms":
        values = values // 1000
    return values, [
        BadValues("non-integer timestamp", source, bad, expected),
        BadValues("timestamp out of range", source, out_of_range, f"{expected} below 10^18"),
    ]


def _parse_price(array: pa.Array, source: str) -> tuple[np.ndarray, list[BadValues]]:
    expected = "a finite price >= 0"
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        not_numeric = _mask(pc.is_null(array))
        numbers = pc.cast(array, pa.float64(), safe=False)
    else:
        text = pc.cast(array, pa.string())
        not_numeric = _mask(pc.invert(pc.match_substring_regex(text, _NUMBER_PATTERN)))
        numbers = pc.cast(pc.if_else(pa.array(~not_numeric), text, "0"), pa.float64())
    values = np.asarray(pc.fill_null(numbers, 0.0).to_numpy(zero_copy_only=False), np.float64)
    not_finite = ~np.isfinite(values) & ~not_numeric
    negative = (values < 0) & ~not_numeric
    return values.astype(np.float32), [
        BadValues("non-numeric price", source, not_numeric, expected),
        BadValues("NaN or infinite price", source, not_finite, expected),
        BadValues("negative price", source, negative, expected),
    ]


def _parse_behavior(
    array: pa.Array, source: str, behavior_map: Mapping[str, str] | None
) -> tuple[np.ndarray, list[BadValues]]:
    mapping = dict(behavior_map) if behavior_map is not None else {b: b for b in BEHAVIORS}
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
    names = [str(value) for value in encoded.dictionary.to_pylist()]
    lookup = np.array([BEHAVIORS.index(mapping[n]) if n in mapping else -1 for n in names] + [-1])
    indices = pc.fill_null(encoded.indices, len(names)).to_numpy(zero_copy_only=False)
    codes = lookup[np.asarray(indices, dtype=np.int64)]
    expected = "one of " + ", ".join(repr(name) for name in sorted(mapping))
    bad = BadValues("unknown behavior", source, codes < 0, expected)
    return np.maximum(codes, 0).astype(np.int8), [bad]


def parse_columns(table: pa.Table, spec: ColumnSpec) -> tuple[ParsedColumns, list[BadValues]]:
    """Converts source columns to canonical ones and checks every value.

    Args:
        table: `[num_rows]` source columns named as in `spec.column_map`'s values.
        spec: where each canonical column comes from.

    Returns:
        the parsed columns and one `BadValues` per check (masks may be all false).
    """

    def column(name: str) -> pa.Array:
        return table.column(spec.column_map[name]).combine_chunks()

    problems: list[BadValues] = []
    ids = {}
    for name in ("user_id", "item_id"):
        ids[name], found = _parse_id(column(name), name, spec.column_map[name], spec.integer_ids)
        problems += found
    if "behavior" in spec.column_map:
        codes, found = _parse_behavior(
            column("behavior"), spec.column_map["behavior"], spec.behavior_map
        )
        problems += found
    else:
        assert spec.default_behavior is not None
        codes = np.full(table.num_rows, BEHAVIORS.index(spec.default_behavior), np.int8)
    timestamp = None
    if "timestamp" in spec.column_map:
        timestamp, found = _parse_timestamp(
            column("timestamp"), spec.column_map["timestamp"], spec.timestamp_unit
        )
        problems += found
    attributes: dict[str, Any] = {}
    for name in ("category", "brand"):
        if name in spec.column_map:
            text = pc.cast(column(name), pa.string())
            # An empty attribute is unknown, not an error: catalogues are rarely complete.
            attributes[name] = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if "price" in spec.column_map:
        attributes["price"], found = _parse_price(column("price"), spec.column_map["price"])
        problems += found
    parsed = ParsedColumns(ids["user_id"], ids["item_id"], codes, timestamp, attributes)
    return parsed, [problem for problem in problems if problem.rows.any()]
