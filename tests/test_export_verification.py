"""An export is checked against its manifest by content at load: an index or graph swapped in
from another training run (checksums fixed up, so only the fingerprints can tell), mismatched
vocabulary tables and truncated files are refused with a message naming what mismatched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from servable_fixtures import FakeServableModel, make_catalogue

from tfrs_mtl.serving.export import load
from tfrs_mtl.serving.export_content import content_fingerprints
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.manifest import MANIFEST_NAME, ExportError, list_files, verify_export
from tfrs_mtl.serving.recommender import Recommender

NUM_ITEMS = 120
SCANN = IndexConfig(min_items_to_partition=1, num_leaves=2, num_leaves_to_search=2)
BRUTE_FORCE = IndexConfig(kind="brute_force")


def _export(folder: Path, index: IndexConfig, seed: int, num_users: int = 20) -> Path:
    model = FakeServableModel(num_users=num_users, num_items=NUM_ITEMS, seed=seed)
    recommender = Recommender(model, make_catalogue(NUM_ITEMS), index, progress=False)
    return recommender.save(folder)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {
        "scann_a": _export(root / "scann_a", SCANN, seed=0),
        "scann_b": _export(root / "scann_b", SCANN, seed=1),
        "brute_a": _export(root / "brute_a", BRUTE_FORCE, seed=0),
        "brute_b": _export(root / "brute_b", BRUTE_FORCE, seed=1),
        "other_users": _export(root / "other_users", BRUTE_FORCE, seed=0, num_users=25),
    }


def _copy(source: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(source, tmp_path / source.name))


def _fix_up_checksums(folder: Path) -> None:
    """What a careless copy would do: make the file list agree with the new files."""
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["files"] = list_files(folder)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


def _swap_in(target: Path, source: Path, relative: str) -> None:
    if (source / relative).is_dir():
        shutil.rmtree(target / relative)
        shutil.copytree(source / relative, target / relative)
    else:
        shutil.copyfile(source / relative, target / relative)
    _fix_up_checksums(target)


@pytest.mark.parametrize("name", ["scann_a", "brute_a"])
def test_a_pristine_export_reproduces_its_fingerprints_from_content(exports, name) -> None:
    manifest = verify_export(exports[name])
    recorded = manifest["content_fingerprints"]
    assert recorded["index"] == manifest["fingerprints"]["index"]  # recomputed, and equal
    assert recorded == content_fingerprints(exports[name], manifest)


def test_a_scann_index_from_another_run_is_refused(exports, tmp_path) -> None:
    folder = _copy(exports["scann_a"], tmp_path)
    _swap_in(folder, exports["scann_b"], "variables")  # ScaNN's index lives in the variables
    with pytest.raises(ExportError, match=r"index: .* another training run") as caught:
        load(folder)
    assert "does not match its manifest" in str(caught.value)


def test_a_brute_force_index_from_another_run_is_refused(exports, tmp_path) -> None:
    folder = _copy(exports["brute_a"], tmp_path)
    _swap_in(folder, exports["brute_b"], "variables")
    with pytest.raises(ExportError, match=r"index: .* another training run"):
        verify_export(folder)


def test_vocabulary_tables_that_do_not_match_are_refused(exports, tmp_path) -> None:
    folder = _copy(exports["brute_a"], tmp_path)
    _swap_in(folder, exports["other_users"], "saved_model.pb")  # 25 users' lookup, not 20
    with pytest.raises(ExportError, match=r"vocabularies: the lookup tables in saved_model\.pb"):
        verify_export(folder)


def test_forged_content_fingerprints_still_fail_on_the_index(exports, tmp_path) -> None:
    folder = _copy(exports["scann_a"], tmp_path)
    _swap_in(folder, exports["scann_b"], "variables")
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["content_fingerprints"]["index"] = "0" * 64  # the check is against `fingerprints`
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="another training run"):
        verify_export(folder)


@pytest.mark.parametrize("relative", ["saved_model.pb", "variables/variables.data-00000-of-00001"])
def test_a_truncated_file_is_refused_naming_it_and_both_sizes(exports, tmp_path, relative) -> None:
    folder = _copy(exports["scann_a"], tmp_path)
    data = (folder / relative).read_bytes()
    (folder / relative).write_bytes(data[: len(data) // 2])
    with pytest.raises(ExportError, match=rf"{relative}: size {len(data) // 2} bytes, expected"):
        load(folder)
