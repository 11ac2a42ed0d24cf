"""tfrs_mtl.layers: towers, the optional fixed item-item part of the retrieval score, the
(query, candidate) pair interaction, ranking stacks (shared-bottom, MMoE, CGC/PLE), task heads
and the ESMM cascade."""

from tfrs_mtl.layers.configs import (
    ExpertsConfig,
    HeadConfig,
    InteractionConfig,
    TowerConfig,
)
from tfrs_mtl.layers.customized_gate_control import CustomizedGateControl
from tfrs_mtl.layers.esmm_cascade import EsmmCascade
from tfrs_mtl.layers.expert_mixing import mix_experts
from tfrs_mtl.layers.item_item_part import ItemItemPart, retrieval_embeddings
from tfrs_mtl.layers.mixture_of_experts import MixtureOfExperts
from tfrs_mtl.layers.multilayer_perceptron import MultiLayerPerceptron
from tfrs_mtl.layers.pair_interaction import PairInteraction
from tfrs_mtl.layers.ranking_stack import build_ranking_stack
from tfrs_mtl.layers.shared_bottom import SharedBottom
from tfrs_mtl.layers.task_head import TaskHead
from tfrs_mtl.layers.towers import CandidateTower, QueryTower

__all__ = [
    "CandidateTower",
    "CustomizedGateControl",
    "EsmmCascade",
    "ExpertsConfig",
    "HeadConfig",
    "InteractionConfig",
    "ItemItemPart",
    "MixtureOfExperts",
    "MultiLayerPerceptron",
    "PairInteraction",
    "QueryTower",
    "SharedBottom",
    "TaskHead",
    "TowerConfig",
    "build_ranking_stack",
    "mix_experts",
    "retrieval_embeddings",
]
