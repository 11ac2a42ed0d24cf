"""The README's Python example runs as written (in a fresh process, on real MovieLens-100K)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_has_one_python_example() -> None:
    assert len(_python_blocks()) == 1


@pytest.mark.slow
def test_readme_python_example_runs(data_root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "TFRS_MTL_DATA_DIR": str(data_root)}
    result = subprocess.run(
        [sys.executable, "-c", _python_blocks()[0]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "final_score" in result.stdout
    assert (tmp_path / "exports" / "movies" / "manifest.json").is_file()
