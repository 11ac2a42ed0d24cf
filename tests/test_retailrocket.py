"""load_retailrocket: raw Kaggle form, processed three-file form, and the real data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tfrs_mtl.data.errors import DataError, DataNotFoundError
from tfrs_mtl.data.retailrocket import load_retailrocket


def _raw(folder: Path, *, with_properties: bool = True) -> Path:
    (folder / "events.csv").write_text(
        "timestamp,visitorid,event,itemid,transactionid\n"
        "1433221332117,257597,view,355908,\n"
        "1433224214164,992329,addtocart,248676,\n"
        "1433221999827,111016,transaction,248676,4000\n"
    )
    if with_properties:
        (folder / "item_properties_part1.csv").write_text(
            "timestamp,itemid,property,value\n"
            "1435460400000,355908,categoryid,1338\n"
            "1441508400000,355908,categoryid,1339\n"
            "1439089200000,248676,790,n277200.000\n"
        )
        (folder / "item_properties_part2.csv").write_text(
            "timestamp,itemid,property,value\n1431226800000,248676,categoryid,7\n"
        )
        (folder / "category_tree.csv").write_text("categoryid,parentid\n1339,5\n7,\n")
    return folder


def test_raw_form_maps_events_and_milliseconds(tmp_path: Path) -> None:
    log = load_retailrocket(_raw(tmp_path))
    events = log.events
    assert events["behavior"].tolist() == ["click", "cart", "purchase"]
    assert events["user_id"].tolist() == ["257597", "992329", "111016"]
    assert events["timestamp"].tolist() == [1433221332, 1433224214, 1433221999]
    assert log.source.endswith("events.csv")


def test_raw_form_takes_the_latest_category_and_its_parent(tmp_path: Path) -> None:
    items = load_retailrocket(_raw(tmp_path)).items
    assert items is not None
    assert items["item_id"].tolist() == ["248676", "355908"]
    assert items["category"].tolist() == ["7", "1339"]
    assert pd.isna(items["parent_category"].iloc[0])
    assert items["parent_category"].iloc[1] == "5"


def test_raw_form_without_properties_has_no_items(tmp_path: Path) -> None:
    assert load_retailrocket(_raw(tmp_path, with_properties=False)).items is None


def test_raw_form_bad_category_value(tmp_path: Path) -> None:
    _raw(tmp_path)
    with (tmp_path / "item_properties_part2.csv").open("a") as file:
        file.write("1431226800000,1,categoryid,toys\n")
    with pytest.raises(
        DataError,
        match=r"item_properties_part2\.csv, line 3, column 'value': non-integer categoryid",
    ):
        load_retailrocket(tmp_path)
    with pytest.warns(UserWarning, match="dropped 1"):
        log = load_retailrocket(tmp_path, on_bad_rows="skip")
    assert log.items is not None
    assert len(log.items) == 2


def test_processed_form(tmp_path: Path) -> None:
    header = "visitorid\titemid\tevent\n"
    (tmp_path / "view_ecommerce.dat").write_text(header + "1\t1\t1\n1\t2\t1\n")
    (tmp_path / "add_to_cart_ecommerce.dat").write_text(header + "1\t2\t1\n")
    (tmp_path / "purchase_ecommerce.dat").write_text(header + "1\t2\t1\n")
    log = load_retailrocket(tmp_path)
    assert log.events["behavior"].tolist() == ["click", "click", "cart", "purchase"]
    assert log.events["item_id"].tolist() == ["1", "2", "2", "2"]
    assert "timestamp" not in log.events
    assert log.report.num_rows_read == 4


def test_processed_form_with_a_file_missing(tmp_path: Path) -> None:
    (tmp_path / "view_ecommerce.dat").write_text("visitorid\titemid\tevent\n1\t1\t1\n")
    with pytest.raises(DataNotFoundError, match=r"lacks \['add_to_cart_ecommerce\.dat'"):
        load_retailrocket(tmp_path)


def test_real_processed_counts(data_root: Path) -> None:
    log = load_retailrocket(data_root / "retailrocket")
    counts = log.events["behavior"].value_counts().to_dict()
    assert counts == {"click": 78_371, "cart": 9_028, "purchase": 5_088, "favorite": 0}
    assert log.events["user_id"].nunique() == 3_431
    assert log.events["item_id"].nunique() == 8_885
