"""`load_dataset`: every dataset tfrs_mtl reads, by name."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from tfrs_mtl.data.errors import ReadReport
from tfrs_mtl.data.movielens import load_movielens
from tfrs_mtl.data.movielens_schema import MOVIELENS_NAMES

ECOMMERCE_NAMES: tuple[str, ...] = ("retailrocket", "taobao-userbehavior", "synthetic-ecommerce")
DATASET_NAMES: tuple[str, ...] = (*MOVIELENS_NAMES, *ECOMMERCE_NAMES)


def load_dataset(name: str, data_dir: str | Path | None = None, **options: Any) -> Any:
    """Loads the dataset called `name`.

    Args:
        name: one of `DATASET_NAMES`: the MovieLens releases (`movielens-100k`, ...),
            `retailrocket`, `taobao-userbehavior` or `synthetic-ecommerce`.
        data_dir: the dataset's folder (or zip, for MovieLens); None to look in
            `$TFRS_MTL_DATA_DIR` (and TFDS, for MovieLens). Not used by the generator.
        **options: passed to the reader (`on_bad_rows`, `duplicates`, generator settings).

    Returns:
        A `MovieLensData` for MovieLens, an `EventLog` for the e-commerce datasets.

    Example:
        >>> data = load_dataset("movielens-100k", on_bad_rows="skip")  # doctest: +SKIP
    """
    if name in MOVIELENS_NAMES:
        return load_movielens(name, data_dir, **options)
    # The e-commerce readers are imported on demand: MovieLens users never pay for them.
    if name == "retailrocket":
        from tfrs_mtl.data.retailrocket import load_retailrocket

        return load_retailrocket(data_dir, **options)
    if name == "taobao-userbehavior":
        from tfrs_mtl.data.taobao import load_taobao

        return load_taobao(data_dir, **options)
    if name == "synthetic-ecommerce":
        if data_dir is not None:
            raise ValueError("synthetic-ecommerce is generated: it takes no data_dir")
        from tfrs_mtl.data.synthetic import generate_synthetic_ecommerce

        return generate_synthetic_ecommerce(**options)
    raise ValueError(f"unknown dataset {name!r}; expected one of {list(DATASET_NAMES)}")


def validate_dataset(name: str, data_dir: str | Path | None = None, **options: Any) -> ReadReport:
    """Reads the whole dataset, collecting every bad row instead of stopping at the first.

    For `tfrs-mtl data validate`: the returned report counts bad rows per reason and keeps the
    first few full messages (file, line, column, value, expectation). Problems that stop
    reading altogether (a missing file, a wrong header, a corrupt zip) still raise.

    Args:
        name: one of `DATASET_NAMES` except the generator.
        data_dir: as for `load_dataset`.
        **options: other reader options (e.g. `duplicates="raise"` also checks duplicates).

    Returns:
        The `ReadReport`; `num_rows_dropped == 0` means the data is valid.

    Raises:
        DataError: the data cannot be read at all.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the report says it all
        data = load_dataset(name, data_dir, on_bad_rows="skip", **options)
    report = data.log.report if hasattr(data, "log") else data.report
    return report
