"""The repository speaks of the product: no tracked file or file name names a work item
(a session, an issue number) instead of what the code does or what was measured."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORK_ITEM = re.compile(r"session[ _-]?[0-9]+|issue(?:[ _-]?[0-9]+|'s)", re.IGNORECASE)
# Run folders and the like are named by what they hold; these appear in names instead.
WORK_NAMES = re.compile(r"session|_run[0-9]|_before\.", re.IGNORECASE)


def _tracked() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [name for name in listed.stdout.splitlines() if name]


def test_no_tracked_text_names_a_work_item() -> None:
    found = []
    for name in _tracked():
        path = ROOT / name
        if name == "tests/test_product_words.py" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (plots)
        for number, line in enumerate(text.splitlines(), 1):
            if WORK_ITEM.search(line.replace("clear_session", "")):
                found.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not found, "\n".join(found[:20])


def test_no_tracked_file_is_named_after_a_work_step() -> None:
    assert not [name for name in _tracked() if WORK_NAMES.search(Path(name).name)]
