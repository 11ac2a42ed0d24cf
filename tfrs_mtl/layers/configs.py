"""Config dataclasses for towers, the pair interaction, ranking stacks and task heads.

`MultiTaskConfig` (tfrs_mtl.models) composes them. Field names equal the layers' constructor
arguments, so `QueryTower(shared, **tower_config.to_dict())` builds the layer.
"""

from __future__ import annotations

import dataclasses

from tfrs_mtl._choices import ARCHITECTURES, Architecture
from tfrs_mtl.config import Config, require


def _check_dims(owner: str, field: str, dims: tuple[int, ...], allow_empty: bool) -> None:
    require(allow_empty or len(dims) > 0, f"{owner}.{field}: needs at least one layer size")
    bad = [dim for dim in dims if dim <= 0]
    require(not bad, f"{owner}.{field}={list(dims)}: every size must be > 0")


def _check_dropout(owner: str, dropout: float) -> None:
    require(0.0 <= dropout < 1.0, f"{owner}.dropout={dropout} must be in [0, 1)")


@dataclasses.dataclass(frozen=True)
class TowerConfig(Config):
    """An MLP over one side's encoded features (`QueryTower` / `CandidateTower`).

    Attributes:
        hidden_dims: hidden layer sizes (may be empty: a single linear projection).
        output_dim: embedding size; both towers must agree for dot-product retrieval.
        activation: Keras activation of the hidden layers.
        dropout: dropout rate after each hidden layer.
        use_l2_norm: L2-normalize the output (cosine similarity retrieval).
        use_bias_dimension: append one column: 1 on the query side, a learned per-item bias
            on the candidate side, so retrieval scores are `cosine + item bias` (see
            `tfrs_mtl.layers.towers`); both towers must agree. The embeddings are then
            `output_dim + 1` wide.
        identity_feature: a feature of the tower whose own embedding, L2-normalised, is
            concatenated before the MLP output (`[e_f, m] / sqrt(2)`; needs `use_l2_norm`):
            e.g. `user_history` on the query side and the item id on the candidate side make
            retrieval score the history's items against the candidate's row directly, as
            well as through the MLP. The output is then wider by that feature's width.
        history_clusters: with a `multi_hot` `identity_feature` (a history): a history of at
            least `history_clusters_min_length` values is embedded, in that part, as the
            size-weighted sum of the unit directions of a K-means of its rows
            (`tfrs_mtl.layers.history_clusters`) instead of its normalised mean, in the
            retrieval queries of evaluation and serving (the model's `query_encoder`);
            training steps, the losses and the ranking stack read the mean. 1: off.
        history_clusters_min_length: the shortest history clustered.
    """

    hidden_dims: tuple[int, ...] = (64,)
    output_dim: int = 32
    activation: str = "relu"
    dropout: float = 0.0
    use_l2_norm: bool = False
    use_bias_dimension: bool = False
    identity_feature: str | None = None
    history_clusters: int = 1
    history_clusters_min_length: int = 150

    def validate(self) -> None:
        _check_dims("TowerConfig", "hidden_dims", self.hidden_dims, allow_empty=True)
        require(self.output_dim > 0, f"TowerConfig.output_dim={self.output_dim} must be > 0")
        _check_dropout("TowerConfig", self.dropout)
        require(
            self.identity_feature is None or self.use_l2_norm,
            f"TowerConfig.identity_feature={self.identity_feature!r} needs use_l2_norm=True "
            "(both halves of the output are unit vectors)",
        )
        require(
            self.history_clusters >= 1,
            f"TowerConfig.history_clusters={self.history_clusters} must be >= 1",
        )
        require(
            self.history_clusters == 1 or self.identity_feature is not None,
            f"TowerConfig.history_clusters={self.history_clusters} needs an identity_feature "
            "(the history it clusters)",
        )
        require(
            self.history_clusters_min_length >= self.history_clusters,
            f"TowerConfig.history_clusters_min_length={self.history_clusters_min_length} must be "
            f">= history_clusters={self.history_clusters}",
        )


@dataclasses.dataclass(frozen=True)
class InteractionConfig(Config):
    """How a (query, candidate) pair becomes the ranking stacks' input (`PairInteraction`).

    Attributes:
        use_cross: apply DCN cross layers (`tfrs.layers.dcn.Cross`) to the pair features.
        num_cross_layers: stacked cross layers when `use_cross`.
        cross_projection_dim: low-rank projection of the cross layers (None: full rank).
    """

    use_cross: bool = False
    num_cross_layers: int = 1
    cross_projection_dim: int | None = None

    def validate(self) -> None:
        require(
            self.num_cross_layers >= 1,
            f"InteractionConfig.num_cross_layers={self.num_cross_layers} must be >= 1",
        )
        require(
            self.cross_projection_dim is None or self.cross_projection_dim > 0,
            f"InteractionConfig.cross_projection_dim={self.cross_projection_dim} must be > 0",
        )


@dataclasses.dataclass(frozen=True)
class ExpertsConfig(Config):
    """The ranking stack shared by the tasks.

    Attributes:
        architecture: `shared_bottom` (one MLP for all tasks), `mmoe` (Ma et al., KDD 2018:
            shared experts mixed by one softmax gate per task) or `ple` (Tang et al., RecSys
            2020: shared + task-specific experts per level, `num_levels` levels; one level is
            CGC).
        num_experts: MMoE experts.
        expert_hidden_dims: hidden sizes of each expert (and of the shared bottom); the last
            size is the width each task receives.
        num_shared_experts: PLE shared experts per level.
        num_task_experts: PLE experts per task per level.
        num_levels: PLE extraction levels.
        activation: Keras activation of the expert layers.
        dropout: dropout rate after each expert layer.
    """

    architecture: Architecture = "mmoe"
    num_experts: int = 4
    expert_hidden_dims: tuple[int, ...] = (64,)
    num_shared_experts: int = 1
    num_task_experts: int = 1
    num_levels: int = 1
    activation: str = "relu"
    dropout: float = 0.0

    def validate(self) -> None:
        require(
            self.architecture in ARCHITECTURES,
            f"ExpertsConfig.architecture={self.architecture!r} not in {list(ARCHITECTURES)}",
        )
        _check_dims("ExpertsConfig", "expert_hidden_dims", self.expert_hidden_dims, False)
        require(self.num_experts >= 1, f"ExpertsConfig.num_experts={self.num_experts} < 1")
        require(
            self.num_shared_experts >= 0,
            f"ExpertsConfig.num_shared_experts={self.num_shared_experts} < 0",
        )
        require(
            self.num_task_experts >= 1,
            f"ExpertsConfig.num_task_experts={self.num_task_experts} must be >= 1",
        )
        require(self.num_levels >= 1, f"ExpertsConfig.num_levels={self.num_levels} < 1")
        require(
            self.architecture != "ple" or self.num_levels == 1 or self.num_shared_experts >= 1,
            f"ExpertsConfig.num_shared_experts=0 with num_levels={self.num_levels}: PLE levels "
            "after the first read the shared experts' output",
        )
        _check_dropout("ExpertsConfig", self.dropout)


@dataclasses.dataclass(frozen=True)
class HeadConfig(Config):
    """The MLP of a task head (`TaskHead`) on top of the task's stack output.

    Attributes:
        hidden_dims: hidden layer sizes (may be empty: a linear head).
        activation: Keras activation of the hidden layers.
        dropout: dropout rate after each hidden layer.
    """

    hidden_dims: tuple[int, ...] = (32,)
    activation: str = "relu"
    dropout: float = 0.0

    def validate(self) -> None:
        _check_dims("HeadConfig", "hidden_dims", self.hidden_dims, allow_empty=True)
        _check_dropout("HeadConfig", self.dropout)
