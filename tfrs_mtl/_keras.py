"""Makes sure `tf.keras` is Keras 2 (tf-keras), which TensorFlow Recommenders 0.7.7 requires."""

from __future__ import annotations

import os
import sys
import types

_FIX = (
    "TensorFlow Recommenders needs Keras 2. Set TF_USE_LEGACY_KERAS=1 before anything imports "
    "TensorFlow (for example `export TF_USE_LEGACY_KERAS=1`, or import tfrs_mtl before "
    "tensorflow in a notebook, then restart the kernel), and install tf-keras==2.20.*."
)


class KerasVersionError(ImportError):
    """`tf.keras` is, or will be, bound to Keras 3."""


def _bound_keras_version() -> str | None:
    """Returns which Keras `tf.keras` resolved to, or None when it is not resolved yet.

    Reads the lazy loader's state without triggering the load.
    """
    tf_module = sys.modules.get("tensorflow")
    if tf_module is None:
        return None
    loader = tf_module.__dict__.get("keras")
    if loader is None:
        return None
    if type(loader) is types.ModuleType:
        # The lazy loader replaces itself with the module it loaded.
        return "tf_keras" if loader.__name__.startswith("tf_keras") else "keras_3"
    state = object.__getattribute__(loader, "__dict__")
    if not state.get("_tfll_initialized", False):
        return None
    version = state.get("_tfll_keras_version")
    return str(version) if version is not None else None


def check_keras_backend() -> None:
    """Raises `KerasVersionError` if `tf.keras` is or would be Keras 3.

    Raises:
        KerasVersionError: TF_USE_LEGACY_KERAS is set to something other than 1/true, or
            TensorFlow was imported and `tf.keras` was already bound to Keras 3.
    """
    setting = os.environ.get("TF_USE_LEGACY_KERAS")
    if setting not in ("1", "true", "True"):
        raise KerasVersionError(f"TF_USE_LEGACY_KERAS={setting!r}. {_FIX}")
    bound = _bound_keras_version()
    if bound == "keras_3":
        raise KerasVersionError(
            f"tf.keras is already bound to Keras 3 in this process (TensorFlow was imported "
            f"and tf.keras used before tfrs_mtl). {_FIX}"
        )
