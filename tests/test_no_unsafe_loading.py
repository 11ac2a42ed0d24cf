"""Inputs are never unpickled or evaluated: no pickle-family import, no eval/exec, no unsafe
YAML loader and no `np.load(..., allow_pickle=True)` anywhere in the package (an AST scan),
and a crafted object-array `.npz` given as serving data is refused without running its
payload."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest

import tfrs_mtl
from tfrs_mtl.experiments.serving_data import ServingData
from tfrs_mtl.models import Catalogue

PACKAGE = Path(tfrs_mtl.__file__).parent
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "marshal", "shelve", "joblib"}
UNSAFE_YAML = {"load", "unsafe_load", "full_load", "load_all", "unsafe_load_all"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def unsafe_uses(source: str) -> list[str]:
    """What `source` does that could run code hidden in data, one line per finding."""
    findings = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names]
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else names
            findings += [
                f"line {node.lineno}: imports {module}"
                for module in modules
                if module.split(".")[0] in UNSAFE_MODULES
            ]
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if name in ("eval", "exec", "builtins.eval", "builtins.exec"):
            findings.append(f"line {node.lineno}: calls {name}")
        if name.startswith("yaml.") and name.split(".")[-1] in UNSAFE_YAML:
            findings.append(f"line {node.lineno}: calls {name} (use yaml.safe_load)")
        if name.endswith("read_pickle"):
            findings.append(f"line {node.lineno}: calls {name}")
        flag = keywords.get("allow_pickle")
        safe_flag = flag is None or (isinstance(flag, ast.Constant) and flag.value is False)
        if name.split(".")[-1] == "load" and not safe_flag:
            findings.append(f"line {node.lineno}: {name}(allow_pickle=...) not False")
    return findings


def test_the_scanner_finds_each_unsafe_use() -> None:
    source = (
        "import pickle\nfrom dill import loads\nimport yaml, numpy as np\n"
        "eval('1')\nexec('x = 1')\nyaml.load(text)\nyaml.full_load(text)\n"
        "np.load(path, allow_pickle=True)\npd.read_pickle(path)\n"
        "yaml.safe_load(text)\nnp.load(path, allow_pickle=False)\nmodel.evaluate(x)\n"
    )
    assert [finding.split(":")[0] for finding in unsafe_uses(source)] == [
        "line 1",
        "line 2",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
    ]


def test_the_package_never_unpickles_or_evaluates_its_input() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    findings = [
        f"{file.relative_to(PACKAGE.parent)} {finding}"
        for file in files
        for finding in unsafe_uses(file.read_text(encoding="utf-8"))
    ]
    assert findings == []


class _Payload:
    """Unpickling this would create the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("reader", [ServingData.load, Catalogue.load])
def test_a_crafted_object_array_npz_is_refused_without_running_it(tmp_path, reader) -> None:
    marker = tmp_path / "payload-ran"
    crafted = tmp_path / "serving_data.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    arrays = {name: payload for name in ("query_id_feature", "seen_items", "item_ids")}
    arrays.update({"id_feature": payload, "probabilities": payload, "feature:movie_id": payload})
    np.savez(crafted, allow_pickle=True, **arrays)
    with pytest.raises(ValueError, match="allow_pickle=False"):
        reader(crafted)
    assert not marker.exists()


@pytest.mark.parametrize("reader", [ServingData.load, Catalogue.load])
@pytest.mark.parametrize(
    "content", [b"not a zip at all", b"PK\x03\x04 truncated"], ids=["text", "truncated-zip"]
)
def test_a_file_that_is_not_an_npz_is_refused_naming_it(tmp_path, reader, content) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(content)
    with pytest.raises(ValueError, match=r"broken\.npz: not a readable"):
        reader(broken)


@pytest.mark.parametrize("reader", [ServingData.load, Catalogue.load])
def test_an_npz_missing_its_arrays_is_refused_naming_it(tmp_path, reader) -> None:
    partial = tmp_path / "partial.npz"
    np.savez(partial, something=np.arange(3))
    with pytest.raises(ValueError, match=r"partial\.npz: not a readable"):
        reader(partial)
