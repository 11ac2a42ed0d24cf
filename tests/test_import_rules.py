"""The one-way import rule of DESIGN.md: packages import only those below them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tfrs_mtl"

# package -> the tfrs_mtl packages it may import (besides itself and private top-level modules)
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "data": {"config"},
    "features": {"config"},
    "layers": {"features", "config"},
    "tasks": {"layers", "features", "config"},
    "models": {"tasks", "layers", "features", "config"},
    "serving": {"models", "config"},
    "evaluation": {"serving", "models", "data", "config", "features"},
    "experiments": {
        "config",
        "data",
        "features",
        "layers",
        "tasks",
        "models",
        "serving",
        "evaluation",
    },
    # Beside experiments: batch jobs on Apache Beam (an optional extra).
    "pipelines": {
        "config",
        "data",
        "features",
        "layers",
        "tasks",
        "models",
        "serving",
        "evaluation",
    },
    "cli": {
        "config",
        "data",
        "features",
        "layers",
        "tasks",
        "models",
        "serving",
        "evaluation",
        "experiments",
        "pipelines",
    },
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    parts = [name.split(".") for name in names if name.startswith("tfrs_mtl.")]
    return {p[1] for p in parts if len(p) > 1 and not p[1].startswith("_")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down(package: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        bad = _imported_packages(path) - ALLOWED[package] - {package}
        if bad:
            offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_every_package_is_ruled() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(ALLOWED)
