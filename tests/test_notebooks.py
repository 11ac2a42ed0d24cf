"""The notebooks: stored clean (default suite), and each runs top to bottom (`-m notebook`).

The execution tests run every notebook in a fresh kernel with `TFRS_MTL_NOTEBOOK_SMALL=1`
(small data, one epoch, short sweeps) and fail on the first cell that raises. CI runs them
in their own step: `TFRS_MTL_NOTEBOOK_SMALL=1 pytest -m notebook`.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = (
    "01_quickstart_movielens.ipynb",
    "02_serving_with_scann.ipynb",
    "03_ecommerce_multi_behaviour.ipynb",
    "04_task_weighting.ipynb",
)
# Generous: a loaded 2-core CI machine; the slowest cell (a sweep of trainings) takes ~1 min.
CELL_TIMEOUT_SECONDS = 900
# Datasets the notebooks read from $TFRS_MTL_DATA_DIR.
NOTEBOOK_DATASETS = ("ml-100k", "retailrocket")


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=nbformat.NO_CONVERT)


def test_the_four_notebooks_are_stored() -> None:
    assert sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_notebook_is_valid_v4_without_outputs(name: str) -> None:
    notebook = _read(name)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{name} has no code cells"
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{name}: cells {dirty} carry outputs or execution counts; "
        "run `python notebooks/strip_outputs.py` before committing"
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_reads_the_small_setting_in_its_first_code_cell(name: str) -> None:
    first = next(cell for cell in _read(name).cells if cell.cell_type == "code")
    assert "TFRS_MTL_NOTEBOOK_SMALL" in first.source


@pytest.mark.notebook
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(
    name: str, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    missing = [folder for folder in NOTEBOOK_DATASETS if not (data_root / folder).is_dir()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs real data: {data_root} lacks {missing}")
        pytest.skip(f"{data_root} lacks {missing}")
    # The kernel inherits this process' environment.
    monkeypatch.setenv("TFRS_MTL_NOTEBOOK_SMALL", "1")
    monkeypatch.delenv("TFRS_MTL_NOTEBOOK_RESULTS", raising=False)
    notebook = _read(name)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        # The working directory: anything a notebook writes relative to it lands here.
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError naming the cell and its traceback
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
