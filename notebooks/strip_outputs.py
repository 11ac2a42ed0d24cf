"""Strips outputs and execution counts from notebooks, so they are stored clean.

Usage:
    python notebooks/strip_outputs.py            # every notebook in this folder
    python notebooks/strip_outputs.py a.ipynb    # the given notebooks
    python notebooks/strip_outputs.py --check    # exit 1 if any notebook carries outputs

`tests/test_notebooks.py` fails when a stored notebook has outputs; run this before committing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
# Execution metadata written by Jupyter/nbclient; it changes on every run.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def is_clean(notebook: nbformat.NotebookNode) -> bool:
    """True when no code cell has outputs, an execution count or execution metadata."""
    return all(
        not cell.get("outputs")
        and cell.get("execution_count") is None
        and not any(key in cell.get("metadata", {}) for key in VOLATILE_CELL_METADATA)
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


def strip(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Clears outputs, execution counts and execution metadata, in place; returns it."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in VOLATILE_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: this folder's)")
    parser.add_argument("--check", action="store_true", help="report only; exit 1 if dirty")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(HERE.glob("*.ipynb"))
    dirty = []
    for path in paths:
        notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        if is_clean(notebook):
            continue
        dirty.append(path)
        if not args.check:
            nbformat.validate(strip(notebook))
            nbformat.write(notebook, path)
    for path in dirty:
        print(f"{'has outputs' if args.check else 'stripped'}: {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
