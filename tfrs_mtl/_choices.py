"""The named choices of a model: ranking architectures and loss weighting methods.

Plain data with no heavy import, so that the command line offers them at once; the configs
(`ExpertsConfig`, `WeightingConfig`, `ExperimentConfig`) and the presets type their fields
with these.
"""

from __future__ import annotations

from typing import Literal, get_args

#: The ranking stack: one shared bottom, MMoE (Ma et al., KDD 2018) or PLE (Tang et al.,
#: RecSys 2020).
Architecture = Literal["shared_bottom", "mmoe", "ple"]
ARCHITECTURES: tuple[str, ...] = get_args(Architecture)
#: How task losses are weighted (`tfrs_mtl.tasks.WeightingConfig`).
Weighting = Literal["fixed", "uncertainty", "dwa", "gradnorm"]
WEIGHTINGS: tuple[str, ...] = get_args(Weighting)
#: The named experiment presets (`tfrs_mtl.experiments.experiment_presets`).
PRESETS: tuple[str, ...] = ("default", "tfrs-tutorial")
