"""`benchmarks/result_files.py`: the run description every quality benchmark writes, and its
JSON + markdown pair."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import result_files


def test_the_run_description_names_the_command_machine_load_and_extras(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "argv", ["prog.py", "--seeds", "100"])
    monkeypatch.setattr(os, "getloadavg", lambda: (3.5, 0.0, 0.0))
    meta = result_files.run_meta("benchmarks/prog.py", time.perf_counter() - 2.0, seed=7)
    assert meta["command"] == "benchmarks/prog.py --seeds 100"
    assert meta["machine"].endswith(f"{os.cpu_count()} cores, load average 3.50 at the end")
    assert meta["tensorflow"].startswith("2.")
    assert meta["total_seconds"] >= 2.0
    assert meta["seed"] == 7
    assert list(meta)[-1] == "seed"


def test_the_results_are_written_as_json_and_markdown(tmp_path: Path) -> None:
    results = {"meta": {"out": tmp_path}, "cases": {"a": 0.5}}
    result_files.write_results(tmp_path / "bench_tag", results, "# table\n")
    assert json.loads((tmp_path / "bench_tag.json").read_text()) == {
        "meta": {"out": str(tmp_path)},
        "cases": {"a": 0.5},
    }
    assert (tmp_path / "bench_tag.md").read_text() == "# table\n"
