"""`Config`: typed from_dict, whole-config validation, round trips through dict, JSON and YAML."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest

from tfrs_mtl.config import Config, ConfigError, require


@dataclasses.dataclass(frozen=True)
class _Inner(Config):
    name: str
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class _Outer(Config):
    num_leaves: int = 100
    num_leaves_to_search: int = 10
    kind: Literal["scann", "brute_force"] = "scann"
    hidden_dims: tuple[int, ...] = (64, 32)
    tasks: tuple[_Inner, ...] = ()
    temperature: float | None = None

    def validate(self) -> None:
        require(
            self.num_leaves_to_search <= self.num_leaves,
            f"num_leaves_to_search={self.num_leaves_to_search} exceeds "
            f"num_leaves={self.num_leaves}",
        )


def test_from_dict_coerces_nested_and_round_trips() -> None:
    config = _Outer.from_dict(
        {"hidden_dims": [8], "tasks": [{"name": "rating", "weight": 2}], "temperature": 1}
    )
    assert config.hidden_dims == (8,)
    assert config.tasks == (_Inner("rating", 2.0),)
    assert isinstance(config.tasks[0].weight, float)
    assert config.temperature == 1.0
    assert _Outer.from_dict(config.to_dict()) == config


def test_validate_runs_on_construction_and_replace() -> None:
    with pytest.raises(ConfigError, match="num_leaves_to_search=200 exceeds num_leaves=100"):
        _Outer(num_leaves_to_search=200)
    with pytest.raises(ConfigError, match="num_leaves_to_search=20 exceeds num_leaves=5"):
        _Outer().replace(num_leaves=5, num_leaves_to_search=20)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"num_leafs": 3}, r"unknown key\(s\) \['num_leafs'\]"),
        ({"num_leaves": "many"}, r"num_leaves: expected an integer, got 'many' \(str\)"),
        ({"num_leaves": True}, r"num_leaves: expected an integer, got True"),
        ({"kind": "faiss"}, r"kind: expected one of \['scann', 'brute_force'\], got 'faiss'"),
        ({"tasks": [{"name": "x", "weight": "high"}]}, r"tasks\[0\]\.weight: expected a number"),
        ({"tasks": [{"weight": 1.0}]}, r"tasks\[0\]: .*missing 1 required"),
    ],
)
def test_bad_values_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _Outer.from_dict(data)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_file_round_trip(tmp_path: Path, suffix: str) -> None:
    config = _Outer(hidden_dims=(4, 2), tasks=(_Inner("genres"),))
    path = tmp_path / f"config{suffix}"
    config.save(path)
    assert _Outer.load(path) == config


def test_yaml_is_read_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("num_leaves: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        _Outer.load(path)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read config"):
        _Outer.load(tmp_path / "missing.yaml")
