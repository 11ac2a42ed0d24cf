"""`IndexConfig`: how the candidate index is built (ScaNN or exact brute force).

ScaNN (Guo et al., "Accelerating Large-Scale Inference with Anisotropic Vector Quantization",
ICML 2020) partitions the catalogue into `num_leaves` k-means leaves, searches the
`num_leaves_to_search` nearest leaves of a query, scores their items with anisotropic
asymmetric hashing (AH, `dimensions_per_block` dimensions per code) and finally rescores the
best `num_reordering_candidates` exactly.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

from tfrs_mtl.config import Config, require

# lut16 asymmetric hashing trains 16 codes per block: it needs at least that many items.
MIN_ITEMS_FOR_HASHING = 16


@dataclasses.dataclass(frozen=True)
class IndexConfig(Config):
    """Configuration of the candidate index.

    Attributes:
        kind: `"scann"` (approximate, fast) or `"brute_force"` (exact; the oracle in tests and
            the fallback where ScaNN cannot be imported). The ScaNN fields below are ignored
            for `"brute_force"`.
        distance_measure: `"dot_product"` (score = q·c) or `"squared_l2"`
            (score = -|q - c|²). Scores are always "higher is better".
        num_leaves: k-means partitions of the catalogue.
        num_leaves_to_search: partitions searched per query (recall/speed trade-off).
        dimensions_per_block: embedding dimensions per AH code (higher = more compression).
        num_reordering_candidates: candidates rescored exactly after AH scoring; `None`
            disables reordering.
        training_sample_size: items sampled to train the partitioner and the AH codebooks.
        training_iterations: k-means iterations for the partitioner.
        training_threads: threads training the index. 1 makes builds reproducible (the
            same embeddings give the same index, so a tuned recall holds when rebuilt);
            0 uses every core, faster but not reproducible.
        min_partition_size: ScaNN rebalances leaves smaller than this with an unseeded random
            step; ScaNN's default of 50 therefore makes builds irreproducible. 1 keeps the
            k-means leaves as trained (reproducible with `training_threads=1`).
        min_items_per_leaf: the adaptation rule for small catalogues (see `adapted_to`).
        min_items_to_partition: catalogues smaller than this skip the tree: every item is
            scored with AH, then the best are reordered exactly. ScaNN's own guideline
            (`scann/docs/algorithms.md`: brute force below 20k points, no partitioning below
            100k). On MovieLens 100K's 1,682 movies a 33-leaf tree searching 4 leaves kept
            only ~0.93 of the exact top 10; scoring every movie keeps ~1.0 at a cost of
            microseconds. Set 1 to partition any catalogue of `2 * min_items_per_leaf` items.
        use_spherical_partitioning: for `"dot_product"`, train the leaves by spherical
            k-means (unit-norm centres), so that the leaves a query searches (by dot product
            with the centres) are the leaves its neighbours were put in; generic k-means (the
            default, ScaNN's) files items by L2 distance. Measured in `benchmarks/ann.py` on
            unnormalised clustered data: at 100,000 x 64 spherical leaves reach recall@10
            0.997 from 2 of 316 leaves (generic: 0.65; 0.95 needs 16), but at 1,000,000 x 64
            the AH codes of the residuals to unit-norm centres are coarse, so recall stops at
            0.94 with 250 reordered (generic: 0.95 from 5 of 1,000 leaves, 100 reordered).
            For L2-normalised embeddings both train near-identical leaves. Ignored for
            `"squared_l2"`.

    Example:
        >>> IndexConfig(num_leaves=100, num_leaves_to_search=10).adapted_to(1000).num_leaves
        1
        >>> IndexConfig(num_leaves=100, min_items_to_partition=1).adapted_to(1000).num_leaves
        20
    """

    kind: Literal["scann", "brute_force"] = "scann"
    distance_measure: Literal["dot_product", "squared_l2"] = "dot_product"
    num_leaves: int = 100
    num_leaves_to_search: int = 10
    dimensions_per_block: int = 2
    num_reordering_candidates: int | None = 100
    training_sample_size: int = 100_000
    training_iterations: int = 12
    training_threads: int = 1
    min_partition_size: int = 1
    min_items_per_leaf: int = 50
    min_items_to_partition: int = 20_000
    use_spherical_partitioning: bool = False

    def validate(self) -> None:
        require(self.num_leaves >= 1, f"num_leaves={self.num_leaves} must be at least 1")
        require(
            self.num_leaves_to_search >= 1,
            f"num_leaves_to_search={self.num_leaves_to_search} must be at least 1",
        )
        require(
            self.num_leaves_to_search <= self.num_leaves,
            f"num_leaves_to_search={self.num_leaves_to_search} exceeds "
            f"num_leaves={self.num_leaves}",
        )
        require(
            self.dimensions_per_block >= 1,
            f"dimensions_per_block={self.dimensions_per_block} must be at least 1",
        )
        require(
            self.num_reordering_candidates is None or self.num_reordering_candidates >= 1,
            f"num_reordering_candidates={self.num_reordering_candidates} must be at least 1 "
            "(or null to disable reordering)",
        )
        require(
            self.training_sample_size >= 1,
            f"training_sample_size={self.training_sample_size} must be at least 1",
        )
        require(
            self.training_iterations >= 1,
            f"training_iterations={self.training_iterations} must be at least 1",
        )
        require(
            self.training_threads >= 0,
            f"training_threads={self.training_threads} must be 0 (all cores) or more",
        )
        require(
            self.min_partition_size >= 1,
            f"min_partition_size={self.min_partition_size} must be at least 1",
        )
        require(
            self.min_items_per_leaf >= 1,
            f"min_items_per_leaf={self.min_items_per_leaf} must be at least 1",
        )
        require(
            self.min_items_to_partition >= 1,
            f"min_items_to_partition={self.min_items_to_partition} must be at least 1",
        )

    @property
    def uses_partitioning(self) -> bool:
        """Whether ScaNN builds a tree (one leaf means every item is scored)."""
        return self.kind == "scann" and self.num_leaves >= 2

    def adapted_to(self, num_items: int) -> IndexConfig:
        """Returns the config actually built for a catalogue of `num_items` items.

        The rule, so that small catalogues (tests, MovieLens 100K's 1,682 movies) build and
        search well:
        - below `min_items_to_partition` items the tree is skipped (`num_leaves=1`): every
          item is scored.
        - `num_leaves` becomes `min(num_leaves, num_items // min_items_per_leaf)` so that a
          leaf holds `min_items_per_leaf` items on average; below two leaves the tree is
          skipped (`num_leaves=1`) and every item is scored.
        - `num_leaves_to_search` keeps its fraction of the leaves, rounded up, at least 1.
        - `num_reordering_candidates` and `training_sample_size` are clipped to `num_items`.

        Args:
            num_items: catalogue size, at least 1.

        Returns:
            An equal config for `"brute_force"`, else the adapted ScaNN config.
        """
        if num_items < 1:
            raise ValueError(f"num_items={num_items}: the catalogue is empty")
        if self.kind == "brute_force":
            return self
        num_leaves = max(1, min(self.num_leaves, num_items // self.min_items_per_leaf))
        if num_items < self.min_items_to_partition:
            num_leaves = 1
        fraction = self.num_leaves_to_search / self.num_leaves
        num_leaves_to_search = min(num_leaves, max(1, math.ceil(fraction * num_leaves)))
        reordering = self.num_reordering_candidates
        return self.replace(
            num_leaves=num_leaves,
            num_leaves_to_search=num_leaves_to_search,
            num_reordering_candidates=None if reordering is None else min(reordering, num_items),
            training_sample_size=min(self.training_sample_size, num_items),
        )
