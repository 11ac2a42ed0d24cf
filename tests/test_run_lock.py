"""One process at a time writes an output folder: a second `train` (or `evaluate`) on a folder
being written is refused, told who writes it (pid, host, start, command), and neither
resumes from nor removes the live run's state. A lock left by a killed process is free."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tfrs_mtl.cli import main
from tfrs_mtl.experiments.run_lock import (
    LOCK_FILE,
    OutputInUseError,
    lock_holder,
    output_lock,
)

# Another process taking a folder's lock as a running `tfrs-mtl train` does (plain fcntl:
# nothing heavy to import), then waiting until its stdin closes.
HOLDER = """
import fcntl, json, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(descriptor, fcntl.LOCK_EX)
record = {"pid": os.getpid(), "host": "worker-7", "started": "2026-01-02T03:04:05+00:00",
          "command": "tfrs-mtl train --out run"}
os.write(descriptor, json.dumps(record).encode())
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A run folder whose lock another live process holds (an interrupted-looking state in
    it, as a live run has mid-training)."""
    out = tmp_path / "run"
    (out / ".backup").mkdir(parents=True)
    (out / ".backup" / "experiment.yaml").write_text("dataset: synthetic-ecommerce\n")
    (out / "INCOMPLETE").write_text("being written\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out / LOCK_FILE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    yield out, holder
    if holder.poll() is None:
        holder.communicate("")


def test_a_second_train_is_told_who_holds_the_folder(held) -> None:
    out, holder = held
    result = CliRunner().invoke(
        main, ["train", "--dataset", "synthetic-ecommerce", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: --out {out} is being written by another tfrs-mtl process (pid {holder.pid} "
        "on worker-7, started 2026-01-02T03:04:05+00:00: tfrs-mtl train --out run); wait "
        "for it to finish, or choose another output\n"
    )
    # The live run's state is neither resumed from nor removed.
    assert sorted(path.name for path in out.iterdir()) == [".backup", ".lock", "INCOMPLETE"]
    assert (out / ".backup" / "experiment.yaml").is_file()


def test_evaluate_waits_for_the_run_that_writes_the_folder(held) -> None:
    out, holder = held
    (out / "experiment.yaml").write_text("dataset: synthetic-ecommerce\n")
    result = CliRunner().invoke(main, ["evaluate", "--model", str(out)])
    assert result.exit_code == 1
    assert f"{out} is being written by a running tfrs-mtl process (pid {holder.pid}" in (
        result.output
    )
    assert lock_holder(out / LOCK_FILE) is not None


def test_a_lock_left_by_a_killed_process_is_free(held) -> None:
    out, holder = held
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (out / LOCK_FILE).exists()  # left behind, but no longer held
    assert lock_holder(out / LOCK_FILE) is None
    with output_lock(out / LOCK_FILE, "--out run"):
        record = json.loads((out / LOCK_FILE).read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
    assert not (out / LOCK_FILE).exists()


def test_a_lock_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / LOCK_FILE).symlink_to(target)
    with (
        pytest.raises(OutputInUseError, match="is a symbolic link"),
        output_lock(tmp_path / LOCK_FILE, "--out run"),
    ):
        pass
    assert not target.exists()
