"""`feature_signature`: the raw input `tf.TensorSpec`s of one side, for SavedModel signatures."""

from __future__ import annotations

import tensorflow as tf

from tfrs_mtl.features.feature_config import FeatureSpec

_DTYPES = {"string": tf.string, "int64": tf.int64, "float32": tf.float32, "bool": tf.bool}


def feature_signature(spec: FeatureSpec, side: str) -> dict[str, tf.TensorSpec]:
    """Feature name -> `tf.TensorSpec` of the raw feature: `[None]` for scalar features,
    `[None, None]` (padded) for `multi_hot`; dtype from `FeatureConfig.raw_dtype`.

    Args:
        spec: the declared features.
        side: `query` or `candidate`.
    """
    return {
        feature.name: tf.TensorSpec(
            shape=[None, None] if feature.kind == "multi_hot" else [None],
            dtype=_DTYPES[feature.raw_dtype],
            name=feature.name,
        )
        for feature in spec.side_features(side)
    }
