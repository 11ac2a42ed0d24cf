"""tfrs_mtl: multi-task learning for recommendation on TensorFlow Recommenders.

Importing the package only selects Keras 2 for `tf.keras` (TFRS 0.7.7 needs it); TensorFlow
itself is imported by the submodules that use it, so `tfrs-mtl --help` stays fast.
"""

import os

# Must happen before anything touches `tf.keras`; setdefault respects an explicit choice.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tfrs_mtl._keras import check_keras_backend

check_keras_backend()

__version__ = "0.1.0"

__all__ = ["__version__", "check_keras_backend"]
