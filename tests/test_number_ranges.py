"""Numbers out of range: in every reader they are checked before any conversion (a value too
long for int64 is a `DataError` naming the line, not a pyarrow overflow); on the command line
and in configs every number must be finite and within what a run can hold."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tfrs_mtl.cli import main
from tfrs_mtl.config import ConfigError
from tfrs_mtl.data import DataError
from tfrs_mtl.data.errors import ReadReport
from tfrs_mtl.data.event_csv import read_event_table
from tfrs_mtl.data.movielens_formats import parse_1m_users, parse_100k_movies, parse_100k_users
from tfrs_mtl.data.rating_file import LAYOUT_1M, LAYOUT_100K, LAYOUT_CSV, read_rating_file
from tfrs_mtl.data.retailrocket import load_retailrocket
from tfrs_mtl.experiments import ExperimentConfig

TWENTY_DIGITS = b"12345678901234567890"
GOOD_100K = b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
ITEM_REST = b"|Toy Story (1995)|01-Jan-1995||http://x" + b"|0" * 19 + b"\n"


@pytest.mark.parametrize(
    ("layout", "data", "column", "problem"),
    [
        (LAYOUT_100K, GOOD_100K + b"1\t1\t3\t" + TWENTY_DIGITS + b"\n", "timestamp", "timestamp"),
        (LAYOUT_100K, GOOD_100K + b"1\t1\t" + TWENTY_DIGITS + b"\t5\n", "rating", "rating"),
        (LAYOUT_1M, b"1::1::5::9\n2::2::4::9\n3::3::4::" + TWENTY_DIGITS, "Timestamp", "timestamp"),
        (
            LAYOUT_CSV,
            b"userId,movieId,rating,timestamp\n1,1,4,9\n3,3,4," + TWENTY_DIGITS + b"\n2,2,1,9\n",
            "timestamp",
            "timestamp",
        ),
        # Below int64's limit but beyond any unix time: the fast path checks it too.
        (LAYOUT_100K, GOOD_100K + b"1\t1\t3\t1000000000000000000\n", "timestamp", "timestamp"),
    ],
)
def test_overlong_numbers_in_rating_files_name_the_line(
    layout, data: bytes, column: str, problem: str
) -> None:
    with pytest.raises(DataError) as raised:
        read_rating_file(data, "ratings", layout)
    assert raised.value.line == 3 and raised.value.column == column
    assert raised.value.problem == f"{problem} out of range"
    rows = read_rating_file(data, "ratings", layout, on_bad_rows="skip")
    assert len(rows.rating) == 2


def test_a_megabyte_number_is_refused_without_reparsing_it() -> None:
    data = GOOD_100K + b"1\t2\t3\t" + b"9" * 3_000_000 + b"\n"
    with pytest.raises(DataError, match=r"line 3, column 'timestamp': timestamp out of range"):
        read_rating_file(data, "u.data", LAYOUT_100K)


@pytest.mark.parametrize(
    ("parse", "line", "message"),
    [
        (
            parse_100k_users,
            b"1|999|M|writer|00000",
            "bad age; found '999'; expected an integer from 1 to 120",
        ),
        (parse_100k_users, b"1|" + TWENTY_DIGITS + b"|M|writer|00000", "bad age"),
        (parse_1m_users, b"1::F::1::" + b"7" * 5000 + b"::48067", "bad occupation code"),
    ],
)
def test_catalogue_numbers_are_range_checked_as_text(parse, line: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse(line + b"\n", "users", "raise", ReadReport())


def test_event_timestamps_beyond_int64_are_out_of_range(tmp_path: Path) -> None:
    text = tmp_path / "events.csv"
    text.write_text("user_id,item_id,behavior,timestamp\n1,2,click,5\n1,3,click,9" + "9" * 30)
    with pytest.raises(DataError, match=r"line 3, column 'timestamp': timestamp out of range"):
        read_event_table(text)
    parquet = tmp_path / "events.parquet"
    table = pa.table(
        {
            "user_id": ["1", "1"],
            "item_id": ["2", "3"],
            "behavior": ["click", "click"],
            "timestamp": pa.array([5, 2**64 - 1], pa.uint64()),  # no int64 holds it
        }
    )
    pq.write_table(table, parquet)
    with pytest.raises(DataError, match=r"row 2: timestamp out of range"):
        read_event_table(parquet)


def _invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--item-item-weight", "inf"),
            "Invalid value for '--item-item-weight': 'inf' is not a finite number",
        ),
        (("--learning-rate", "nan"), "'--learning-rate': 'nan' is not a finite number"),
        (("--history-dropout", "nan"), "'--history-dropout': 'nan' is not a finite number"),
        (("--seed", "-1"), "'--seed': -1 is not in the range 0<=x<=4294967295"),
        (("--seed", str(2**70)), "'--seed': 1180591620717411303424 is not in the range"),
        (
            ("--embedding-dim", str(2**40)),
            "embedding_dim=1099511627776 is above the largest supported, 8,192",
        ),
        (("--epochs", str(2**70)), "epochs: expected an integer that fits in 64 bits"),
        (("--max-rows", str(2**70)), "max_rows: expected an integer that fits in 64 bits"),
        (("--item-item-weight", "1e300"), "item_item_weight=1e+300 is above 1000"),
    ],
)
def test_numeric_options_are_finite_and_in_range(tmp_path: Path, args, message: str) -> None:
    out = tmp_path / "run"
    result = _invoke("train", *args, "--out", str(out))
    assert result.exit_code != 0, result.output
    assert result.output.count("\n") == 1 or "Usage:" in result.output
    assert message in result.output, result.output
    assert not out.exists()


def test_quickstart_refuses_an_infinite_item_item_weight(tmp_path: Path) -> None:
    result = _invoke("quickstart", "--item-item-weight", "inf", "--out", str(tmp_path / "q"))
    assert result.exit_code == 2 and "'inf' is not a finite number" in result.output
    with pytest.raises(ConfigError, match="item_item_weight=inf must be a finite number"):
        ExperimentConfig(item_item_weight=math.inf)  # what quickstart builds


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("ks: [10, 1000000000]\n", "ks=[10, 1000000000] must be in [1, 10,000]"),
        ("num_negatives_per_user: 1000000000\n", "num_negatives_per_user=1000000000 is above"),
        ("user_history_length: 1000000000\n", "user_history_length=1000000000 is above"),
        ("synthetic_num_events: 100000000000\n", "synthetic_num_events=100000000000 is above"),
        ("split: {seed: -5}\n", "seed=-5 is not in [0, 4294967295]"),
        ("split: {method: kfold, num_folds: 100000}\n", "num_folds=100000 is not in [2, 100]"),
    ],
)
def test_config_sizes_that_would_exhaust_memory_are_refused(
    tmp_path: Path, yaml: str, message: str
) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(yaml)
    with pytest.raises(ConfigError, match="big.yaml: .*" + re.escape(message)):
        ExperimentConfig.load(path)


def test_cv_refuses_a_fold_count_it_could_not_build(tmp_path: Path) -> None:
    result = _invoke("cv", "--folds", str(10**20), "--out", str(tmp_path / "cv"))
    assert result.exit_code == 1
    assert "--folds: folds=100000000000000000000: a k-fold split needs k >= 2 and at most 100" in (
        result.output
    )


def test_a_sample_too_small_to_split_is_refused_before_training(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _invoke(
        "train", "--dataset", "synthetic-ecommerce", "--max-rows", "3", "--out", str(out), "-q"
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: the tutorial split of 3 rows leaves 2 training and 1 test rows; a run needs at "
        "least 20 of each"
    )
    assert not out.exists()


def test_a_timed_split_of_data_without_timestamps_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "retailrocket"
    folder.mkdir()
    rows = "".join(f"{user}\t{item}\t1\n" for user in range(1, 40) for item in range(1, 4))
    for name in ("view_ecommerce.dat", "add_to_cart_ecommerce.dat", "purchase_ecommerce.dat"):
        (folder / name).write_text("visitorid\titemid\tevent\n" + rows)
    assert load_retailrocket(folder).events.shape[0] == 3 * 39 * 3
    out = tmp_path / "run"
    result = _invoke(
        "train", "--dataset", "retailrocket", "--data-dir", str(folder), "--split", "temporal",
        "--out", str(out), "-q",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "split.method='temporal' orders each user's rows by time, but this data has no " in (
        result.output
    )
    assert not out.exists()


def test_ids_too_long_for_int64_keys_are_out_of_range() -> None:
    long_id = b"9" * 25
    with pytest.raises(DataError, match=r"line 2, column 'user id': id out of range"):
        read_rating_file(GOOD_100K[:20] + long_id + b"\t2\t3\t4\n", "u.data", LAYOUT_100K)
    with pytest.raises(DataError, match=r"column 'movie id': id out of range; found '9999"):
        parse_100k_movies(long_id + ITEM_REST, "u.item", "raise", ReadReport())


def test_retailrocket_property_timestamps_beyond_int64_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "retailrocket"
    folder.mkdir()
    (folder / "events.csv").write_text(
        "timestamp,visitorid,event,itemid,transactionid\n1433221332117,257597,view,355908,\n"
    )
    (folder / "item_properties_part1.csv").write_text(
        "timestamp,itemid,property,value\n1435460400000,355908,categoryid,1338\n"
        f"{'9' * 25},355908,categoryid,1339\n"
    )
    with pytest.raises(DataError, match=r"part1.csv, line 3, column 'timestamp'"):
        load_retailrocket(folder)


def test_tower_layers_that_would_exhaust_memory_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"hold 134,217,728 weights between layers; at most"):
        ExperimentConfig(tower_hidden_dims=(8192, 8192, 8192))
    assert ExperimentConfig(tower_hidden_dims=(512, 256)).tower_hidden_dims == (512, 256)


def test_cv_refuses_a_fold_named_twice(tmp_path: Path) -> None:
    result = _invoke("cv", "--folds", "u1,u1", "--out", str(tmp_path / "cv"))
    assert result.exit_code == 1
    assert "--folds: folds='u1,u1' names a fold twice" in result.output
