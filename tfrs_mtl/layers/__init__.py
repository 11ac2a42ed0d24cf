"""tfrs_mtl.layers: towers, the (query, candidate) pair interaction, ranking stacks
(shared-bottom, MMoE, CGC/PLE), task heads and the ESMM cascade."""

from tfrs_mtl.layers.configs import (
    ARCHITECTURES,
    ExpertsConfig,
    HeadConfig,
    InteractionConfig,
    TowerConfig,
)
from tfrs_mtl.layers.multilayer_perceptron import MultiLayerPerceptron
from tfrs_mtl.layers.towers import CandidateTower, QueryTower

__all__ = [
    "ARCHITECTURES",
    "CandidateTower",
    "ExpertsConfig",
    "HeadConfig",
    "InteractionConfig",
    "MultiLayerPerceptron",
    "QueryTower",
    "TowerConfig",
]
