"""Reading a YAML or JSON config file with limits: a hostile file fails with a `ConfigError`.

A config is small and flat, so anything else is refused before it can cost memory or time:

- the path must be a regular file (a FIFO would block, a device never end) of at most
  `MAX_CONFIG_BYTES`, in UTF-8 (a BOM is allowed);
- YAML goes through PyYAML's safe loader, extended to refuse duplicate keys (YAML would keep
  the last one silently), more than `MAX_ALIASES` aliases, nesting deeper than `MAX_DEPTH`
  levels and documents that expand to more than `MAX_NODES` values through aliases (the
  "billion laughs"), recursive aliases included;
- JSON is read by the standard library, refusing duplicate keys, the same depth and size.

The suffix chooses the language, in any case: `.yaml`, `.yml` (YAML), anything else JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from tfrs_mtl._input_files import InputFileError, read_regular_file
from tfrs_mtl._messages import one_line, shown
from tfrs_mtl.config.base import ConfigError

MAX_CONFIG_BYTES = 1 << 20
MAX_DEPTH = 20
MAX_ALIASES = 50
MAX_NODES = 10_000
YAML_SUFFIXES = (".yaml", ".yml")
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _check_expanded_size(root: yaml.Node) -> None:
    """Counts the values `root` expands to (an alias counts its anchor's values again)."""
    sizes: dict[int, int] = {}
    expanding: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            expanding.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_NODES:
                raise ComposerError(
                    None,
                    None,
                    f"the document holds more than {MAX_NODES:,} values (aliases expanded)",
                    node.start_mark,
                )
        elif key in expanding:
            raise ComposerError(None, None, "found a recursive alias", node.start_mark)
        elif key not in sizes:
            expanding.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))


# YAML 1.2 floats: `1e-3` is a number (YAML 1.1, PyYAML's default, reads it as text).
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class _BoundedSafeLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` with duplicate keys refused, aliases and depth bounded, and YAML
    1.2 floats (`1e-3`)."""

    # A copy of the safe loader's resolvers (PyYAML would append to the shared lists).
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._num_aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._num_aliases += 1
            if self._num_aliases > MAX_ALIASES:
                raise ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *base` may be overridden by explicit keys
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = first_lines.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: the safe constructor says so
            if first != key_node.start_mark.line + 1:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {shown(key)} (first on line {first})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


_BoundedSafeLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _yaml_error_text(error: yaml.YAMLError) -> str:
    """`line L, column C: <problem>` of a PyYAML error, without its source excerpt."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem is None:
        return one_line(str(error))
    text = error.problem
    if error.context and not error.problem.startswith("duplicate key"):
        text = f"{error.context}: {text}"
    mark = error.problem_mark
    if mark is not None:
        text = f"line {mark.line + 1}, column {mark.column + 1}: {text}"
    return one_line(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise ConfigError(f"duplicate key {shown(key)}")
        mapping[key] = value
    return mapping


def _check_json_shape(value: Any) -> None:
    """Refuses JSON nested deeper than `MAX_DEPTH` or holding more than `MAX_NODES` values,
    the limits YAML has (walked without recursion)."""
    count = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ConfigError(f"not a config: it holds more than {MAX_NODES:,} values")
        if isinstance(item, dict):
            item = [*item.keys(), *item.values()]
        if isinstance(item, list):
            if depth + 1 > MAX_DEPTH:
                raise ConfigError(f"not a config: nested deeper than {MAX_DEPTH} levels")
            stack.extend((child, depth + 1) for child in item)


def _load_yaml(text: str) -> Any:
    """One YAML document through `_BoundedSafeLoader` (what `yaml.safe_load` does with the
    safe loader)."""
    loader = _BoundedSafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_config_text(text: str, language: str) -> Any:
    """Parses config `text` as "YAML" or "JSON" within the module's limits.

    Raises:
        ConfigError: the text is not valid, repeats a key, nests too deeply or expands
            too far.
    """
    try:
        if language == "YAML":
            return _load_yaml(text)
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except yaml.YAMLError as error:
        raise ConfigError(f"not valid YAML: {_yaml_error_text(error)}") from None
    except RecursionError:
        raise ConfigError(f"not a config: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, or a duplicate key
        raise ConfigError(f"not valid JSON: {error}") from None
    _check_json_shape(data)
    return data


def read_config_file(path: str | Path) -> Any:
    """The parsed content of a `.yaml`/`.yml` (YAML) or other (JSON) config file.

    Raises:
        ConfigError: naming the path and the problem: not a regular file, too large,
            not UTF-8, not valid YAML or JSON, a duplicate key, too deep, too many aliases.
    """
    path = Path(path)
    try:
        raw = read_regular_file(path, max_bytes=MAX_CONFIG_BYTES)
    except InputFileError as error:
        raise ConfigError(f"{path}: cannot read config: {error.problem}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); "
            "expected a YAML or JSON config"
        ) from None
    language = "YAML" if path.suffix.lower() in YAML_SUFFIXES else "JSON"
    try:
        return parse_config_text(text, language)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
