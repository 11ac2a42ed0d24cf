"""What the quality benchmarks write: the run's description and its JSON + markdown results."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any


def run_meta(program: str, started: float, **extra: Any) -> dict[str, Any]:
    """The run's description for its results file.

    Args:
        program: the benchmark's path from the repository root (`benchmarks/tuning.py`).
        started: `time.perf_counter()` when the measured work began.
        **extra: further fields (a seed, a budget), after the common ones.

    Returns:
        `command` (the program and this process's arguments), `date_utc`, `machine` (its
        architecture, cores and 1-minute load average when the run ended: above the core
        count, other work shared the machine), `tensorflow` (the installed version),
        `total_seconds` since `started`, then `extra`.
    """
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    load = os.getloadavg()[0]
    return {
        "command": " ".join([program, *sys.argv[1:]]),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{machine}, load average {load:.2f} at the end",
        "tensorflow": importlib.metadata.version("tensorflow"),
        "total_seconds": time.perf_counter() - started,
        **extra,
    }


def run_line(meta: dict[str, Any]) -> str:
    """How the run was made, for its markdown: the command, then the date, machine,
    TensorFlow version and seconds of `run_meta`, in parentheses."""
    return (
        f"`{meta['command']}` ({meta['date_utc']}, {meta['machine']}, TensorFlow "
        f"{meta['tensorflow']}, {meta['total_seconds']:.0f} s)"
    )


def write_results(stem: Path, results: dict[str, Any], table: str) -> None:
    """Writes `results` as `<stem>.json` (values JSON cannot hold as their `str`) and `table`
    as `<stem>.md`."""
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    stem.with_suffix(".md").write_text(table)
