"""`Config`: the base of every frozen configuration dataclass.

A config is built from keyword arguments or from a plain dict (JSON or YAML), is checked as a
whole by `validate()`, and round-trips through `to_dict()`. Errors name the field path and the
value received, for example `model.tasks[1].weight: expected a number, got 'high'`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from pathlib import Path
from typing import Any, Self, TypeVar, get_args, get_origin

import yaml

from tfrs_mtl._messages import shown

C = TypeVar("C", bound="Config")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type, or impossible."""


def _describe(value: Any) -> str:
    return f"{shown(value)} ({type(value).__name__})"


def _coerce(path: str, annotation: Any, value: Any) -> Any:
    """Converts a plain JSON/YAML value to `annotation`, or raises `ConfigError` naming `path`."""
    origin = get_origin(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(path, option, value)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{path}: {'; '.join(errors)}")
    if origin is typing.Literal:
        allowed = get_args(annotation)
        if value not in allowed:
            raise ConfigError(f"{path}: expected one of {list(allowed)}, got {_describe(value)}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path}: expected a list, got {_describe(value)}")
        args = get_args(annotation)
        item_type = args[0] if args else Any
        return tuple(_coerce(f"{path}[{i}]", item_type, item) for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {_describe(value)}")
        key_type, value_type = get_args(annotation) or (Any, Any)
        return {
            _coerce(f"{path}", key_type, key): _coerce(f"{path}.{key}", value_type, item)
            for key, item in value.items()
        }
    if isinstance(annotation, type) and issubclass(annotation, Config):
        if isinstance(value, annotation):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {_describe(value)}")
        return annotation._from_dict(value, path)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {_describe(value)}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {_describe(value)}")
        if not INT64_MIN <= value <= INT64_MAX:
            raise ConfigError(
                f"{path}: expected an integer that fits in 64 bits, got {_describe(value)}"
            )
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: expected a number, got {_describe(value)}")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond the float range
            number = math.inf
        if not math.isfinite(number):
            raise ConfigError(f"{path}: expected a finite number, got {_describe(value)}")
        return number
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {_describe(value)}")
        return value
    raise TypeError(f"{path}: unsupported annotation {annotation!r}")  # a bug in a Config


def _plain(value: Any) -> Any:
    if isinstance(value, Config):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _check_numbers(path: str, value: Any) -> None:
    """Every float in `value` (a field, its tuples and mappings) is finite and every int fits
    in 64 bits, however the config was built: a NaN or infinite weight would train or serve
    NaN scores without a word."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}={value} must be a finite number")
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ConfigError(f"{path}={shown(value)} does not fit in 64 bits")
    if isinstance(value, tuple | list):
        for index, item in enumerate(value):
            _check_numbers(f"{path}[{index}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(f"{path}.{key}", item)


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class for frozen, validated configuration dataclasses.

    Subclasses are `@dataclasses.dataclass(frozen=True)` with type-annotated fields and
    override `validate()` to check values together, raising `ConfigError`. Sequences are
    stored as tuples so that configs stay hashable and immutable.

    Example:
        >>> config = IndexConfig.from_dict({"num_leaves": 100})
        >>> IndexConfig.from_dict(config.to_dict()) == config
        True
    """

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check_numbers(field.name, getattr(self, field.name))
        self.validate()

    def validate(self) -> None:
        """Checks the values together. Raises `ConfigError` naming the field and value."""

    @classmethod
    def _from_dict(cls, data: dict[str, Any], path: str) -> Self:
        hints = typing.get_type_hints(cls)
        fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
        not_names = [key for key in data if not isinstance(key, str)]
        if not_names:
            where = f"{path}: " if path else ""
            raise ConfigError(
                f"{where}keys must be field names (text) for {cls.__name__}; found "
                f"{_describe(not_names[0])}"
            )
        unknown = sorted(set(data) - set(fields))
        if unknown:
            where = f"{path}: " if path else ""
            raise ConfigError(
                f"{where}unknown key(s) {unknown} for {cls.__name__}; "
                f"expected some of {sorted(fields)}"
            )
        kwargs = {}
        for name, value in data.items():
            field_path = f"{path}.{name}" if path else name
            kwargs[name] = _coerce(field_path, hints[name], value)
        try:
            return cls(**kwargs)
        except TypeError as error:  # a missing required field
            raise ConfigError(f"{path or cls.__name__}: {error}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Builds and validates a config from plain data, checking every key and type."""
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__}: expected a mapping, got {_describe(data)}")
        return cls._from_dict(data, "")

    def to_dict(self) -> dict[str, Any]:
        """Returns plain JSON/YAML-ready data; `from_dict(to_dict())` gives an equal config."""
        return {
            field.name: _plain(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if field.init
        }

    def replace(self, **changes: Any) -> Self:
        """Returns a validated copy with `changes` applied."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Reads a `.json`, `.yaml` or `.yml` file (any case; YAML through a safe loader that
        refuses duplicate keys and bounds aliases, depth and size: `config_files`)."""
        from tfrs_mtl.config.config_files import read_config_file

        data = read_config_file(path)
        try:
            return cls.from_dict(data if data is not None else {})
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None

    def save(self, path: str | Path) -> None:
        """Writes the config as JSON or YAML, chosen by the file's suffix."""
        path = Path(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")
        else:
            path.write_text(self.to_json() + "\n", encoding="utf-8")


def require(condition: bool, message: str) -> None:
    """Raises `ConfigError(message)` unless `condition`; keeps `validate()` bodies flat."""
    if not condition:
        raise ConfigError(message)
