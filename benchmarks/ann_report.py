"""Targets, markdown tables and the recall-vs-QPS plot of `ann.py`'s results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PEERS = ("faiss_ivfpq_fastscan", "faiss_hnsw", "hnswlib")
# The library's ScaNN index: eager TF-op calls, and the default eager pybind fast path.
LIBRARY = ("scann_library", "scann_library_fast", "scann_library_arrays")
NAMES = {
    "scann_library": "ScaNN (library index, TF op)",
    "scann_library_fast": "ScaNN (library index, eager search: pybind fast path)",
    "scann_library_arrays": "ScaNN (library index, search_arrays: pybind, numpy in/out)",
    "scann_pybind": "ScaNN (pybind, own build, no TF)",
}
RECALL_TARGET = 0.95
# The same comparison a little above the target: a best point at 0.951 can fall under 0.95
# in the next build.
MARGIN_RECALL = 0.96
TUNED_LABEL = "tuned@0.95"  # `ann.scann_points`' label of tune_index's choice at 0.95
SPEEDUP_TARGET = 20.0
TARGET_SIZE = 1_000_000


def _best(
    points: list[dict], family: str, measure: str, recall: float = RECALL_TARGET
) -> dict | None:
    passing = [p for p in points if p["family"] == family and p["recall_at_10"] >= recall]
    return max(passing, key=lambda p: p[measure], default=None)


def _comparison(points: list[dict], family: str, measure: str, recall: float) -> dict[str, Any]:
    """`family`'s best point at `recall` or more against each peer's best point there."""
    best = _best(points, family, measure, recall)
    peers = {peer: _best(points, peer, measure, recall) for peer in PEERS}
    return {
        "best": None if best is None else best[measure],
        "best_settings": None if best is None else best["settings"],
        "recall": None if best is None else best["recall_at_10"],
        "peers_best": {
            peer: None if point is None else point[measure] for peer, point in peers.items()
        },
        "on_frontier": best is not None
        and all(point is None or best[measure] >= point[measure] for point in peers.values()),
    }


def _tuned(points: list[dict], family: str, peers: dict[str, dict | None]) -> dict | None:
    """tune_index's choice at recall 0.95 (what a user of the library gets), against the
    peers' best points at recall >= 0.95 (`peers`: by measure)."""
    point = next(
        (
            p
            for p in points
            if p["family"] == family and TUNED_LABEL in str(p["settings"].get("label", ""))
        ),
        None,
    )
    if point is None:
        return None
    entry: dict[str, Any] = {"settings": point["settings"], "recall": point["recall_at_10"]}
    for measure in ("single_qps", "batched_qps"):
        entry[measure] = point[measure]
        entry[f"{measure}_on_frontier"] = point["recall_at_10"] >= RECALL_TARGET and all(
            peer is None or point[measure] >= peer[measure] for peer in peers[measure].values()
        )
    return entry


def catalogue_targets(catalogue: dict[str, Any]) -> dict[str, Any]:
    """ScaNN's speed-up over BruteForce at recall >= 0.95, whether its best point there is
    at least as fast as every peer's best point there (single query and batched), and the
    same for tune_index's choice at 0.95 (`tuned`)."""
    points = catalogue["points"]
    brute = next((p for p in points if p["family"] == "tfrs_brute_force"), None)
    result: dict[str, Any] = {"catalogue": catalogue["name"]}
    peers_by_measure = {
        measure: {peer: _best(points, peer, measure) for peer in PEERS}
        for measure in ("single_qps", "batched_qps")
    }
    for family in (*LIBRARY, "scann_pybind"):
        entry: dict[str, Any] = {"tuned": _tuned(points, family, peers_by_measure)}
        for measure in ("single_qps", "batched_qps"):
            entry[measure] = _comparison(points, family, measure, RECALL_TARGET)
            entry[measure]["at_margin"] = _comparison(points, family, measure, MARGIN_RECALL)
            best = entry[measure]["best"]
            if brute is not None and best is not None:
                entry[measure]["speedup_over_brute_force"] = best / brute[measure]
        result[family] = entry
    result["speedup_met"] = any(
        result[family]["single_qps"].get("speedup_over_brute_force", 0.0) >= SPEEDUP_TARGET
        for family in LIBRARY
    )
    return result


def targets(catalogues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [catalogue_targets(catalogue) for catalogue in catalogues]


def _settings(settings: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in settings.items() if key != "index")


def _peers(peers_best: dict[str, float | None], missing: str) -> str:
    """`"faiss_hnsw 15190, hnswlib 24028"`: each peer's best QPS (`missing` where none)."""
    return ", ".join(
        f"{peer} {missing if value is None else f'{value:.0f}'}"
        for peer, value in peers_best.items()
    )


def _met(flag: bool) -> str:
    return "**met**" if flag else "**not met**"


def _target_lines(target: dict[str, Any], num_items: int) -> list[str]:
    lines = []
    for family in (*LIBRARY, "scann_pybind"):
        if family not in target:  # results from before the fast path
            continue
        single, batched = target[family]["single_qps"], target[family]["batched_qps"]
        if single["best"] is None:
            lines.append(f"- {family}: no point reaches recall@10 >= {RECALL_TARGET}")
            continue
        name = NAMES[family]
        speedup = single.get("speedup_over_brute_force", float("nan"))
        flag = _met(speedup >= SPEEDUP_TARGET) if family in LIBRARY else "(reference)"
        lines.append(
            f"- {name}: recall@10 >= {RECALL_TARGET} at {single['best']:.0f} single-query QPS "
            f"({_settings(single['best_settings'])}, recall {single['recall']:.4f}) = "
            f"**{speedup:.1f}x** BruteForce's single-query QPS (target >= {SPEEDUP_TARGET:.0f}x"
            f"{' on 1M' if num_items >= TARGET_SIZE else ''}): {flag}"
        )
        for measure, entry in (("single-query", single), ("batched", batched)):
            peers = _peers(entry["peers_best"], "never reaches 0.95")
            lines.append(
                f"  - Pareto frontier at recall >= {RECALL_TARGET}, {measure}: "
                f"best {entry['best']:.0f} QPS vs peers' best ({peers}): "
                f"{_met(entry['on_frontier'])}"
            )
            margin = entry.get("at_margin")
            if margin is not None and margin["best"] is not None:
                peers = _peers(margin["peers_best"], "never reaches it")
                lines.append(
                    f"    - the same at recall >= {MARGIN_RECALL}: best {margin['best']:.0f} QPS "
                    f"({_settings(margin['best_settings'])}, recall {margin['recall']:.4f}) vs "
                    f"peers' best ({peers}): {_met(margin['on_frontier'])}"
                )
        tuned = target[family].get("tuned")
        if tuned is not None:
            lines.append(
                f"  - tune_index's choice at {RECALL_TARGET} ({_settings(tuned['settings'])}): "
                f"recall {tuned['recall']:.4f}, {tuned['single_qps']:.0f} single-query QPS "
                f"({_met(tuned['single_qps_on_frontier'])} against the peers' best), "
                f"{tuned['batched_qps']:.0f} batched ({_met(tuned['batched_qps_on_frontier'])})"
            )
    return lines


def _load_text(results: dict[str, Any]) -> str:
    """Load averages (the machine is shared), per run when results were merged."""
    runs = results.get("runs") or [{**results, "catalogues": None}]
    parts = []
    for run in runs:
        start = ", ".join(f"{v:.2f}" for v in run["load_average_start"])
        end = ", ".join(f"{v:.2f}" for v in run["load_average_end"])
        which = f" ({'; '.join(run['catalogues'])})" if run["catalogues"] else ""
        parts.append(f"start {start}, end {end}{which}")
    return "Load average (1, 5, 15 min; 2 cores, shared machine): " + "; ".join(parts) + "."


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"# Nearest-neighbour search ({results['machine']})",
        "",
        f"k={results['k']}. {results['threads']}. {_load_text(results)} "
        "Single-query QPS = 1 / "
        "median latency of one-query calls (eager `index.search` for the library; the "
        "tf.function column: the same call traced, as the serving graph makes it, 300 calls); "
        "batched QPS = queries per CPU-second of this process with 1,000 queries per call "
        "(best of 3; every query runs on one thread; by wall clock in the json as "
        "`batched_wall_qps`, which the machine's load depresses). "
        "Memory = index bytes (serialized index; BruteForce: "
        "the float32 embeddings). Peers installed: "
        + ", ".join(f"{name} {'yes' if ok else 'no'}" for name, ok in results["peers"].items())
        + ".",
        "",
    ]
    for catalogue, target in zip(results["catalogues"], results["targets"], strict=True):
        lines += [
            f"## {catalogue['name']}",
            "",
            f"{catalogue['num_queries']} evaluation queries, {catalogue['num_tuning_queries']} "
            f"tuning queries (tune_index: {catalogue['tuning_seconds']:.0f} s)."
            + (
                f" Skipped (not installed): {catalogue['skipped']}." if catalogue["skipped"] else ""
            ),
            "",
            "| method | settings | recall@10 | 1-query QPS | 1-query p50 / p99 ms "
            "| 1-query QPS in tf.function | batched QPS | build s | index MB |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for p in catalogue["points"]:
            traced = f"{p['traced_single_qps']:.0f}" if "traced_single_qps" in p else "-"
            lines.append(
                f"| {p['family']} | {_settings(p['settings'])} | {p['recall_at_10']:.4f} | "
                f"{p['single_qps']:.0f} | {p['single_median_ms']:.3f} / {p['single_p99_ms']:.3f} "
                f"| {traced} | {p['batched_qps']:.0f} | {p['build_seconds']:.1f} | "
                f"{p['index_bytes'] / 2**20:.1f} |"
            )
        lines += ["", "Targets:", "", *_target_lines(target, catalogue["num_items"]), ""]
    return "\n".join(lines)


def _frontier(points: list[dict], measure: str) -> list[dict]:
    """The points no other point beats on both recall and `measure`, by recall."""
    best = -1.0
    frontier = []
    for point in sorted(points, key=lambda p: (-p["recall_at_10"], -p[measure])):
        if point[measure] > best:
            frontier.append(point)
            best = point[measure]
    return frontier[::-1]


def plot(catalogues: list[dict[str, Any]], path: Path) -> None:
    """Recall@10 vs single-query and batched QPS (log): every point, and one line per method
    family through its recall-QPS frontier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(catalogues), figsize=(5 * len(catalogues), 8), squeeze=False)
    for column, catalogue in enumerate(catalogues):
        families = sorted({p["family"] for p in catalogue["points"]})
        for row, measure in enumerate(("single_qps", "batched_qps")):
            axis = axes[row][column]
            for number, family in enumerate(families):
                points = [p for p in catalogue["points"] if p["family"] == family]
                colour = f"C{number}"
                axis.scatter(
                    [p["recall_at_10"] for p in points],
                    [p[measure] for p in points],
                    color=colour,
                    alpha=0.35,
                    s=14,
                )
                frontier = _frontier(points, measure)
                axis.plot(
                    [p["recall_at_10"] for p in frontier],
                    [p[measure] for p in frontier],
                    color=colour,
                    marker="o",
                    label=family,
                )
            axis.axvline(RECALL_TARGET, color="grey", linestyle="--", linewidth=1)
            axis.set_yscale("log")
            axis.set_xlabel("recall@10")
            axis.set_ylabel("single-query QPS" if row == 0 else "batched QPS")
            axis.set_title(catalogue["name"], fontsize=9)
            axis.grid(True, which="both", alpha=0.3)
        axes[0][column].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
