"""Named experiment presets: a config is a preset plus overrides, from Python, files and CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfrs_mtl._choices import PRESETS
from tfrs_mtl.cli.experiment_options import build_config
from tfrs_mtl.config import ConfigError
from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_presets import EXPERIMENT_PRESETS


def _options(**given: object) -> dict[str, object]:
    names = [
        "config_path",
        "dataset",
        "data_dir",
        "max_rows",
        "tasks",
        "architecture",
        "weighting",
        "retrieval_negatives",
        "epochs",
        "batch_size",
        "optimizer",
        "learning_rate",
        "embedding_dim",
        "seed",
        "index_kind",
        "index_target_recall",
        "baselines",
    ]
    return {**dict.fromkeys(names), **given}


def test_every_named_preset_builds_a_valid_config() -> None:
    assert tuple(EXPERIMENT_PRESETS) == PRESETS
    for name in PRESETS:
        ExperimentConfig.from_dict({"preset": name}).model_config()  # the model can be built
    assert ExperimentConfig.from_dict({"preset": "default"}) == ExperimentConfig()
    shop = ExperimentConfig.from_dict({"preset": "default", "dataset": "retailrocket"})
    assert shop == ExperimentConfig(dataset="retailrocket")
    # The tutorial's recipe has a rating task: on data without ratings it says so.
    with pytest.raises(ConfigError, match=r"unknown task\(s\) \['rating'\]"):
        ExperimentConfig.from_dict({"preset": "tfrs-tutorial", "dataset": "retailrocket"})


def test_the_tutorial_preset_is_the_tutorials_recipe_and_overrides_win() -> None:
    tutorial = ExperimentConfig.from_dict({"preset": "tfrs-tutorial"})
    assert (tutorial.optimizer, tutorial.learning_rate, tutorial.epochs) == ("adagrad", 0.1, 3)
    assert tutorial.retrieval_negatives == "in_batch" and tutorial.embedding_dim == 32
    model = tutorial.model_config()
    assert [task.name for task in model.tasks] == ["retrieval", "rating"]
    assert model.item_item_weight == 0.0 and not model.query_tower.use_l2_norm
    longer = ExperimentConfig.from_dict({"preset": "tfrs-tutorial", "epochs": 5})
    assert longer.epochs == 5 and longer.optimizer == "adagrad"
    # The preset's mappings are copied, never shared with the config built from them.
    assert EXPERIMENT_PRESETS["tfrs-tutorial"]["blend"] == {"retrieval": 1.0}
    with pytest.raises(ConfigError, match=r"preset='nope' is not one of \['default'"):
        ExperimentConfig.from_dict({"preset": "nope"})


def test_a_config_file_and_the_command_line_name_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("preset: tfrs-tutorial\nepochs: 4\n")
    from_file = build_config(**_options(config_path=str(path)))
    assert (from_file.optimizer, from_file.epochs) == ("adagrad", 4)
    # --preset overrides the file's, and the options override both.
    flagged = build_config(**_options(config_path=str(path), epochs=2), preset="default")
    assert (flagged.optimizer, flagged.epochs) == ("adam", 2)
