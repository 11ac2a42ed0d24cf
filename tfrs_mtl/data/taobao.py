"""The Alibaba Taobao UserBehavior dataset, read into an `EventLog`.

The file `UserBehavior.csv` (or a subset `UserBehavior_subset.csv`) has no header and five
comma-separated integer-coded fields per line: `user,item,category,behavior,timestamp`, with
behaviours `pv` (page view), `cart`, `fav` and `buy`, and unix seconds. The official release
covers 2017-11-25 to 2017-12-03 but holds a few events outside that window; they are kept.

Reference: Zhu et al., "Learning Tree-based Deep Model for Recommender Systems", KDD 2018.
Data: https://tianchi.aliyun.com/dataset/649 (Alibaba Tianchi research terms).
"""

from __future__ import annotations

import os

from tfrs_mtl.data.errors import DataNotFoundError, OnBadRows, check_on_bad_rows
from tfrs_mtl.data.event_columns import ColumnSpec
from tfrs_mtl.data.event_csv import read_events
from tfrs_mtl.data.events import EventLog, find_dataset_dir

TAOBAO_NAME = "taobao-userbehavior"
TAOBAO_FILES: tuple[str, ...] = ("UserBehavior.csv", "UserBehavior_subset.csv")
TAOBAO_COLUMNS: tuple[str, ...] = ("user", "item", "category", "behavior", "timestamp")
TAOBAO_BEHAVIORS: dict[str, str] = {
    "pv": "click",
    "cart": "cart",
    "fav": "favorite",
    "buy": "purchase",
}
TAOBAO_DOWNLOAD = (
    "Download UserBehavior.csv.zip from https://tianchi.aliyun.com/dataset/649 (Alibaba "
    "Tianchi, free account) and unzip it there; it has no TFDS builder."
)

_SPEC = ColumnSpec(
    column_map={
        "user_id": "user",
        "item_id": "item",
        "category": "category",
        "behavior": "behavior",
        "timestamp": "timestamp",
    },
    behavior_map=TAOBAO_BEHAVIORS,
    integer_ids=True,
)


def load_taobao(
    data_dir: str | os.PathLike[str] | None = None, *, on_bad_rows: OnBadRows = "raise"
) -> EventLog:
    """Reads Taobao UserBehavior: `pv` -> click, `cart`, `fav` -> favorite, `buy` -> purchase.

    Args:
        data_dir: the folder holding `UserBehavior.csv` (preferred) or
            `UserBehavior_subset.csv`; None looks in `$TFRS_MTL_DATA_DIR/taobao-userbehavior`.
        on_bad_rows: `"raise"` a `DataError` at the first bad row, or `"skip"` bad rows
            (counted in `report`, one `UserWarning`).

    Returns:
        an `EventLog` whose events carry `timestamp` and the item `category`; `items=None`.

    Raises:
        DataNotFoundError: no folder or no file, naming the options and the download page.
        DataError: a malformed file or bad value under `"raise"`.

    Example:
        >>> log = load_taobao()  # doctest: +SKIP
        >>> log.events["behavior"].value_counts()["purchase"]  # doctest: +SKIP
    """
    check_on_bad_rows(on_bad_rows)
    folder = find_dataset_dir(
        TAOBAO_NAME, data_dir, expected=" or ".join(TAOBAO_FILES), download_hint=TAOBAO_DOWNLOAD
    )
    path = next((folder / name for name in TAOBAO_FILES if (folder / name).is_file()), None)
    if path is None:
        raise DataNotFoundError(
            f"{TAOBAO_NAME}: {folder} holds neither {' nor '.join(TAOBAO_FILES)}. "
            + TAOBAO_DOWNLOAD
        )
    events, report = read_events(path, _SPEC, column_names=TAOBAO_COLUMNS, on_bad_rows=on_bad_rows)
    report.warn_if_dropped(str(path))
    return EventLog(TAOBAO_NAME, events, None, str(path), report)
