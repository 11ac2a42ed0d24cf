"""load_taobao on tiny files and on the real subset in $TFRS_MTL_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfrs_mtl.data.errors import DataError, DataNotFoundError
from tfrs_mtl.data.taobao import load_taobao


def test_reads_and_maps_behaviours(tmp_path: Path) -> None:
    (tmp_path / "UserBehavior.csv").write_text(
        "1,10,5,pv,1511544070\n1,10,5,cart,1511544080\n2,11,6,fav,1511544090\n2,11,6,buy,1\n"
    )
    log = load_taobao(tmp_path)
    assert log.name == "taobao-userbehavior"
    assert log.events["behavior"].tolist() == ["click", "cart", "favorite", "purchase"]
    assert log.events["category"].tolist() == ["5", "5", "6", "6"]
    assert log.events["timestamp"].tolist() == [1511544070, 1511544080, 1511544090, 1]
    assert log.items is None


def test_prefers_the_full_file_over_the_subset(tmp_path: Path) -> None:
    (tmp_path / "UserBehavior.csv").write_text("1,10,5,pv,1\n")
    (tmp_path / "UserBehavior_subset.csv").write_text("2,10,5,pv,1\n")
    assert load_taobao(tmp_path).events["user_id"].tolist() == ["1"]


def test_unknown_behaviour_names_the_taobao_values(tmp_path: Path) -> None:
    (tmp_path / "UserBehavior_subset.csv").write_text("1,10,5,pv,1\n1,10,5,click,2\n")
    with pytest.raises(
        DataError,
        match=r"line 2, column 'behavior': unknown behavior; found 'click'; "
        r"expected one of 'buy', 'cart', 'fav', 'pv'",
    ):
        load_taobao(tmp_path)


def test_not_found_names_the_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataNotFoundError, match=r"holds neither UserBehavior\.csv"):
        load_taobao(tmp_path)
    monkeypatch.delenv("TFRS_MTL_DATA_DIR", raising=False)
    with pytest.raises(DataNotFoundError, match=r"pass data_dir=.*tianchi\.aliyun\.com"):
        load_taobao()


def test_real_subset_counts(data_root: Path) -> None:
    log = load_taobao(data_root / "taobao-userbehavior")
    counts = log.events["behavior"].value_counts().to_dict()
    assert counts == {"click": 3926, "cart": 190, "favorite": 128, "purchase": 77}
    assert log.events["user_id"].nunique() == 43
    assert log.report.num_rows_read == 4321
    assert log.report.num_rows_dropped == 0
