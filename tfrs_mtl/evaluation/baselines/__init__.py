"""Baselines scored by the same evaluation code as the library's models.

`PopularityBaseline`, `EaseBaseline` (with `select_ease` for λ) and
`MatrixFactorizationBaseline` need only numpy; `baselines.tfrs_tutorial` (imported
explicitly) builds the TFRS multitask tutorial model.
"""

from tfrs_mtl.evaluation.baselines.baseline_suite import (
    BASELINE_NAMES,
    BaselineResults,
    evaluate_baselines,
)
from tfrs_mtl.evaluation.baselines.ease import EaseBaseline, EaseSelection, select_ease
from tfrs_mtl.evaluation.baselines.matrix_factorization import MatrixFactorizationBaseline
from tfrs_mtl.evaluation.baselines.popularity import PopularityBaseline

__all__ = [
    "BASELINE_NAMES",
    "BaselineResults",
    "EaseBaseline",
    "EaseSelection",
    "MatrixFactorizationBaseline",
    "PopularityBaseline",
    "evaluate_baselines",
    "select_ease",
]
