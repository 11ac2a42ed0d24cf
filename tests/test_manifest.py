"""verify_export: a corrupt or partial export folder fails with an error naming the problem."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from servable_fixtures import FakeServableModel, make_catalogue

from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.manifest import ExportError, verify_export
from tfrs_mtl.serving.recommender import Recommender


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    recommender = Recommender(
        FakeServableModel(num_items=20),
        make_catalogue(20),
        IndexConfig(kind="brute_force"),
        progress=False,
    )
    return recommender.save(tmp_path_factory.mktemp("pristine") / "export")


@pytest.fixture()
def folder(pristine, tmp_path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "export"))


def test_pristine_export_verifies(folder) -> None:
    manifest = verify_export(folder)
    assert manifest["format_version"] == 1
    assert manifest["catalogue"]["num_items"] == 20


def test_missing_folder(tmp_path) -> None:
    with pytest.raises(ExportError, match="no such export folder"):
        verify_export(tmp_path / "nowhere")


def test_missing_manifest_is_an_interrupted_export(folder) -> None:
    (folder / "manifest.json").unlink()
    with pytest.raises(ExportError, match=r"manifest\.json is missing.*interrupted"):
        verify_export(folder)


def test_unparseable_manifest(folder) -> None:
    (folder / "manifest.json").write_text('{"format": ')
    with pytest.raises(ExportError, match=r"manifest\.json: not valid JSON"):
        verify_export(folder)


def test_manifest_missing_version_fields(folder) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["versions"], manifest["format_version"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match=r"missing key\(s\) \['format_version', 'versions'\]"):
        verify_export(folder)


def test_newer_format_version_is_refused(folder) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 2
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="version 2 is not supported"):
        verify_export(folder)


def test_missing_variables_file(folder) -> None:
    (folder / "variables" / "variables.index").unlink()
    with pytest.raises(
        ExportError, match=r"corrupt or partial:\n  variables/variables\.index: missing"
    ):
        verify_export(folder)


def test_truncated_variables_file(folder) -> None:
    data = folder / "variables" / "variables.data-00000-of-00001"
    size = data.stat().st_size
    data.write_bytes(data.read_bytes()[: size // 2])
    with pytest.raises(
        ExportError,
        match=re.escape(f"variables.data-00000-of-00001: size {size // 2} bytes, expected {size}"),
    ):
        verify_export(folder)


def test_changed_byte_is_caught_by_the_checksum(folder) -> None:
    data = folder / "variables" / "variables.data-00000-of-00001"
    content = bytearray(data.read_bytes())
    content[len(content) // 2] ^= 0xFF
    data.write_bytes(bytes(content))
    with pytest.raises(ExportError, match=r"variables\.data-00000-of-00001: sha256 differs"):
        verify_export(folder)
