"""`import tfrs_mtl` selects Keras 2 and refuses a process already bound to Keras 3."""

import os
import subprocess
import sys

import pytest


def _run(code: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_import_selects_legacy_keras() -> None:
    result = _run(
        "import tfrs_mtl, os, tensorflow as tf\n"
        "print(os.environ['TF_USE_LEGACY_KERAS'], tf.keras.Model.__module__)"
    )
    assert result.returncode == 0, result.stderr
    setting, module = result.stdout.split()
    assert setting == "1"
    assert module.startswith("tf_keras")


def test_keras3_already_bound_fails_with_fix() -> None:
    result = _run("import tensorflow as tf\ntf.keras.layers\nimport tfrs_mtl")
    assert result.returncode != 0
    assert "KerasVersionError" in result.stderr
    assert "TF_USE_LEGACY_KERAS=1" in result.stderr


@pytest.mark.parametrize("value", ["0"])
def test_explicit_opt_out_is_refused(value: str) -> None:
    result = _run("import tfrs_mtl", TF_USE_LEGACY_KERAS=value)
    assert result.returncode != 0
    assert "TF_USE_LEGACY_KERAS='0'" in result.stderr
