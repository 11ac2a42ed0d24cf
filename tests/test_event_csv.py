"""read_event_table: column mapping, CSV and Parquet, every validation error, skip mode."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tfrs_mtl.data.errors import DataError, DataNotFoundError
from tfrs_mtl.data.event_csv import read_event_table

COLUMNS = {
    "user_id": "visitor",
    "item_id": "sku",
    "behavior": "event",
    "timestamp": "ts",
    "price": "amount",
}
BEHAVIORS = {"view": "click", "basket": "cart", "order": "purchase"}
HEADER = "visitor,sku,event,ts,amount\n"


def _write(tmp_path: Path, text: str | bytes, name: str = "events.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def _read(path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return read_event_table(path, COLUMNS, BEHAVIORS, **kwargs)  # type: ignore[arg-type]


def test_maps_columns_and_behaviours(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "u1,i1,view,100,9.5\nu2,i1,order,200,9.5\n")
    log = _read(path)
    events = log.events
    assert events["user_id"].tolist() == ["u1", "u2"]
    assert events["behavior"].tolist() == ["click", "purchase"]
    assert events["timestamp"].tolist() == [100, 200]
    assert events["price"].dtype == np.float32
    assert log.name == "events"
    assert log.report.num_rows_read == 2
    assert log.report.num_rows_dropped == 0


def test_identity_column_map_and_milliseconds(tmp_path: Path) -> None:
    path = _write(tmp_path, "user_id;item_id;behavior;timestamp\n7;8;cart;1500999\n")
    log = read_event_table(path, delimiter=";", timestamp_unit="ms", integer_ids=True)
    assert log.events["behavior"].tolist() == ["cart"]
    assert log.events["timestamp"].tolist() == [1500]


def test_parquet_by_suffix_with_typed_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "visitor": pa.array([1, 2], pa.int64()),
            "sku": ["a", "b"],
            "event": ["view", "basket"],
            "ts": pa.array([1_000, 2_000], pa.timestamp("s")),
            "amount": [1.0, 2.5],
        }
    )
    pq.write_table(table, tmp_path / "events.parquet")
    log = _read(tmp_path / "events.parquet")
    assert log.events["user_id"].tolist() == ["1", "2"]
    assert log.events["timestamp"].tolist() == [1_000, 2_000]
    assert log.events["behavior"].tolist() == ["click", "cart"]


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    table = pa.table({"visitor": ["u", "v"], "sku": ["a", "b"], "event": ["view", "nope"],
                      "ts": [1, 2], "amount": [1.0, float("nan")]})  # fmt: skip
    pq.write_table(table, tmp_path / "events.parquet")
    with pytest.raises(DataError, match=r"column 'event': row 2: unknown behavior; found 'nope'"):
        _read(tmp_path / "events.parquet")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no such file"):
        _read(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        (HEADER, "the file has no data rows"),
        (
            "visitor\tsku\tevent\tts\tamount\n",
            r"line 1: the header has no column.*is the delimiter '\\t'",
        ),
    ],
)
def test_empty_files_and_wrong_header(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _read(_write(tmp_path, text))


# Each bad file has one bad row on line 4 (after a blank line 3, which readers skip).
BAD_ROWS = [
    ("u3,i1,view,300", "line 4: 4 fields instead of 5; found 'u3,i1,view,300'; expected 5 fields"),
    ("u3\ti1\tview\t300\t1", r"line 4: 1 fields instead of 5.*is the delimiter '\\t'"),
    ("u3,i1,click,300,1", "line 4, column 'event': unknown behavior; found 'click'; "
     "expected one of 'basket', 'order', 'view'"),
    ("u3,i1,view,3e2,1", "line 4, column 'ts': non-integer timestamp; found '3e2'; "
     "expected a non-negative integer unix time in seconds"),
    ("u3,i1,view,300,nan", "line 4, column 'amount': NaN or infinite price; found 'nan'; "
     "expected a finite price >= 0"),
    ("u3,i1,view,300,-1.5", "line 4, column 'amount': negative price; found '-1.5'"),
    ("u3,i1,view,300,cheap", "line 4, column 'amount': non-numeric price; found 'cheap'"),
    (",i1,view,300,1", "line 4, column 'visitor': empty user_id; found ''"),
]  # fmt: skip


@pytest.mark.parametrize(("bad_line", "message"), BAD_ROWS)
def test_bad_rows_raise_with_file_line_column_value(
    tmp_path: Path, bad_line: str, message: str
) -> None:
    path = _write(tmp_path, HEADER + "u1,i1,view,100,1\n\n" + bad_line + "\nu2,i2,order,5,2\n")
    with pytest.raises(DataError, match=re.escape(str(path)) + ", " + message):
        _read(path)


@pytest.mark.parametrize(("bad_line", "message"), BAD_ROWS[:3])
def test_bad_rows_are_skipped_counted_and_warned_once(
    tmp_path: Path, bad_line: str, message: str
) -> None:
    path = _write(tmp_path, HEADER + "u1,i1,view,100,1\n\n" + bad_line + "\nu2,i2,order,5,2\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = _read(path, on_bad_rows="skip")
    assert log.events["user_id"].tolist() == ["u1", "u2"]
    assert log.report.num_rows_read == 3
    assert log.report.num_rows_dropped == 1
    assert re.search(message, log.report.examples[0])
    assert len(caught) == 1
    assert "dropped 1" in str(caught[0].message)


def test_non_integer_ids_when_required(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "1,i1,view,100,1\n")
    with pytest.raises(DataError, match="line 2, column 'sku': non-integer item_id; found 'i1'"):
        _read(path, integer_ids=True)


def test_bad_encoding_points_at_the_line(tmp_path: Path) -> None:
    data = (HEADER + "u1,i1,view,100,1\n").encode() + b"u\xe9,i1,view,100,1\nu2,i2,view,1,1\n"
    path = _write(tmp_path, data)
    with pytest.raises(DataError, match=r"line 3: bytes that are not utf-8 text; found b'u\\xe9"):
        _read(path)
    with pytest.warns(UserWarning, match="dropped 1"):
        log = _read(path, on_bad_rows="skip")
    assert log.events["user_id"].tolist() == ["u1", "u2"]
    assert dict(log.report.reasons) == {"invalid text encoding": 1}
    assert _read(path, encoding="latin-1").events["user_id"].tolist() == ["u1", "u\xe9", "u2"]


def test_a_row_bad_twice_is_dropped_once(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "u1,i1,nope,x,1\nu2,i2,view,1,1\n")
    with pytest.warns(UserWarning, match=r"dropped 1 \(1 unknown behavior\)"):
        log = _read(path, on_bad_rows="skip")
    assert log.report.num_rows_dropped == 1
    assert dict(log.report.reasons) == {"unknown behavior": 1}


def test_every_row_bad_raises_even_when_skipping(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "u1,i1,nope,1,1\n")
    with pytest.raises(DataError, match="every row is bad"):
        _read(path, on_bad_rows="skip")


def test_headerless_file_with_column_names(tmp_path: Path) -> None:
    path = _write(tmp_path, "u1,i1,view\nu2,i2,order\n")
    log = read_event_table(
        path,
        {"user_id": "u", "item_id": "i", "behavior": "b"},
        BEHAVIORS,
        column_names=("u", "i", "b"),
    )
    assert log.events["item_id"].tolist() == ["i1", "i2"]
    assert "timestamp" not in log.events


def test_spec_mistakes_are_value_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "u1,i1,view,100,1\n")
    with pytest.raises(ValueError, match=r"behaviours \['buy'\] are not in"):
        read_event_table(path, COLUMNS, {"view": "buy"})
    with pytest.raises(ValueError, match="on_bad_rows='ignore'"):
        _read(path, on_bad_rows="ignore")


@pytest.mark.parametrize("column_map", [COLUMNS, None])
def test_corrupt_parquet_is_a_data_error(tmp_path: Path, column_map) -> None:  # type: ignore[no-untyped-def]
    not_parquet = _write(tmp_path, b"PAR1 not really parquet", "events.parquet")
    with pytest.raises(DataError, match=r"events\.parquet: not a readable Parquet file"):
        read_event_table(not_parquet, column_map, BEHAVIORS)


def test_parquet_with_damaged_pages_is_a_data_error(tmp_path: Path) -> None:
    table = pa.table({"visitor": ["u"] * 50, "sku": ["a"] * 50, "event": ["view"] * 50,
                      "ts": list(range(50)), "amount": [1.0] * 50})  # fmt: skip
    path = tmp_path / "events.parquet"
    pq.write_table(table, path, compression="none")
    data = bytearray(path.read_bytes())
    data[4:200] = b"\xff" * 196  # the first pages; the footer (schema) stays sound
    path.write_bytes(bytes(data))
    assert pq.read_schema(path).names == table.column_names
    with pytest.raises(DataError, match=r"events\.parquet: not a readable Parquet file"):
        _read(path)


def test_header_repeating_a_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "visitor,sku,event,ts,amount,sku\nu1,i1,view,100,1,i2\n")
    with pytest.raises(DataError, match=r"events\.csv, line 1: the header repeats a column name"):
        _read(path)
