"""The benchmark's records, and the table made of them: medians, ratios, hatch-lambda's targets.

Used by ``run.py``; not meant to be run on its own.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from _projects import DEPENDENCY_SETS, IMPORT_TARGET, LAMBDA_UNZIPPED_LIMIT

ALTERNATIVES = ("pip", "uv", "uv-pyc", "sam")
# Which alternative mode a row is compared with: after a code change, the others rebuild warm.
COMPARED_WITH = {"cold": "cold", "warm": "warm", "code change": "warm"}
# hatch-lambda's speed targets (printed, never asserted): a cold build at most this many
# times `uv pip install --target` + zip; a warm build and a build after a code change at most this
# many seconds above the same build with a do-nothing custom hook.
COLD_X_UV_TARGET = 0.5
ABOVE_HOOK_TARGET = {"warm": 0.15, "code change": 0.3}


@dataclass
class Measurement:
    """One measured command (or sequence of commands), as the wrapper reported it."""

    ok: bool
    seconds: float
    max_rss_kib: int
    error: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)


@dataclass
class ArchiveStats:
    zip_bytes: int
    unzipped_bytes: int
    files: int
    pyc_files: int
    distributions: list[str]
    check: str = "not checked"  # hatch-lambda check's verdict on this zip
    check_errors: list[str] = field(default_factory=list)


@dataclass
class RunRecord:
    tool: str
    dep_set: str  # the dependency set's name ("default")
    target: str
    mode: str
    run: int
    measurement: Measurement
    archive: ArchiveStats | None = None


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def summarize(records: list[RunRecord]) -> list[dict[str, Any]]:
    """One row per tool, set, target and mode: medians, the lambda step and ratios."""
    groups: dict[tuple[str, str, str, str], list[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.tool, r.dep_set, r.target, r.mode), []).append(r)
    rows = []  # in the order of the first run: by set, then target, then tool
    for (tool, dep_set, target, mode), group in groups.items():
        ok = [r for r in group if r.measurement.ok]
        last = ok[-1].archive if ok else None
        rows.append({
            "tool": tool, "set": dep_set, "target": target, "mode": mode,
            "runs": len(group), "ok": len(ok),
            "median_s": statistics.median(r.measurement.seconds for r in ok) if ok else None,
            "peak_rss_mib": max(r.measurement.max_rss_kib for r in ok) / 1024 if ok else None,
            "zip_bytes": last.zip_bytes if last else None,
            "unzipped_bytes": last.unzipped_bytes if last else None,
            "pyc_files": last.pyc_files if last else None,
            "check": last.check if last else None,
            "errors": sorted({r.measurement.error or "" for r in group if not r.measurement.ok}),
        })  # fmt: skip
    add_lambda_step(rows)
    add_ratios(rows)
    add_targets(rows)
    return rows


def find_row(rows: list[dict[str, Any]], tool: str, like: dict[str, Any], mode: str) -> Any:
    """The row of *tool* in *mode* for the same set and target as the row *like*, or None."""
    wanted = (tool, like["set"], like["target"], mode)
    return next((r for r in rows if (r["tool"], r["set"], r["target"], r["mode"]) == wanted), None)


def difference(row: dict[str, Any], other: dict[str, Any] | None) -> float | None:
    if other is None or row["median_s"] is None or other["median_s"] is None:
        return None
    return float(row["median_s"] - other["median_s"])


def add_lambda_step(rows: list[dict[str, Any]]) -> None:
    """hatch-lambda's time minus its plain wheel build (hooks off), and minus the no-op hook's."""
    for row in rows:
        row["lambda_step_s"] = row["above_hook_s"] = None
        if row["tool"] != "hatch-lambda" or row["mode"] not in COMPARED_WITH:
            continue
        plain = find_row(rows, "hatch-lambda", row, "wheel only (hooks off)")
        row["lambda_step_s"] = difference(row, plain)
        if row["mode"] in ABOVE_HOOK_TARGET:
            row["above_hook_s"] = difference(row, find_row(rows, "hook", row, row["mode"]))


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Time / the fastest successful alternative (pip, uv, sam) of the same set, target and mode.

    Also, for hatch-lambda's cold rows, time / uv's cold time (hatch-lambda's cold target): uv
    compiling bytecode too (``uv-pyc``) when hatch-lambda's zip has bytecode and that row exists.
    """
    for row in rows:
        row["vs_fastest_alt"] = row["step_vs_fastest_alt"] = row["fastest_alt"] = None
        row["cold_vs_uv"] = None
        compared = COMPARED_WITH.get(row["mode"])
        if row["tool"] == "hook" or compared is None or row["median_s"] is None:
            continue
        if row["tool"] == "hatch-lambda" and row["mode"] == "cold":
            compiled = (
                bool(row.get("pyc_files")) and find_row(rows, "uv-pyc", row, "cold") is not None
            )
            uv = find_row(rows, "uv-pyc" if compiled else "uv", row, "cold")
            if uv and uv["median_s"]:
                row["cold_vs_uv"] = row["median_s"] / uv["median_s"]
        alts = [
            r for r in rows
            if r["tool"] in ALTERNATIVES and (r["set"], r["target"]) == (row["set"], row["target"])
            and r["mode"] == compared and r["median_s"]
        ]  # fmt: skip
        if not alts:
            continue
        fastest = min(alts, key=lambda r: r["median_s"])
        row["fastest_alt"] = f"{fastest['tool']} {fastest['mode']}"
        row["vs_fastest_alt"] = row["median_s"] / fastest["median_s"]
        if row["lambda_step_s"] is not None:
            row["step_vs_fastest_alt"] = row["lambda_step_s"] / fastest["median_s"]


def add_targets(rows: list[dict[str, Any]]) -> None:
    """The "vs target" text of hatch-lambda's cold, warm and code-change rows."""
    for row in rows:
        row["vs_target"] = None
        if row["tool"] != "hatch-lambda":
            continue
        if row["mode"] == "cold" and row["cold_vs_uv"] is not None:
            row["vs_target"] = f"{row['cold_vs_uv']:.2f}x uv (<= {COLD_X_UV_TARGET}x)"
        elif row["mode"] in ABOVE_HOOK_TARGET and row["above_hook_s"] is not None:
            limit = ABOVE_HOOK_TARGET[row["mode"]]
            row["vs_target"] = f"{row['above_hook_s']:.3f} s (<= {limit})"


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def fmt(value: Any, spec: str = "", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def cell(text: str, limit: int = 140) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main_table(rows: list[dict[str, Any]]) -> str:
    header = (
        "| tool | set | target | mode | ok/runs | median s | lambda step s | s above hook "
        "| x fastest alt | step x alt | cold x uv | vs target | zip bytes | unzipped bytes | .pyc "
        "| peak RSS MiB | check | status |\n"
        "|---|---|---|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|---|---|\n"
    )
    lines = []
    for r in rows:
        status = "ok" if r["ok"] == r["runs"] else "FAILED: " + cell("; ".join(r["errors"]))
        unzipped = fmt(r["unzipped_bytes"], ",")
        if r["unzipped_bytes"] is not None and r["unzipped_bytes"] > LAMBDA_UNZIPPED_LIMIT:
            unzipped += " (over 250 MB)"
        ratio = fmt(r["vs_fastest_alt"], ".2f", "x")
        if r["fastest_alt"] and r["vs_fastest_alt"] is not None:
            ratio += f" ({r['fastest_alt']})"
        lines.append(
            f"| {r['tool']} | {r['set']} | {r['target']} | {r['mode']} | {r['ok']}/{r['runs']} "
            f"| {fmt(r['median_s'], '.2f')} | {fmt(r['lambda_step_s'], '.2f')} "
            f"| {fmt(r['above_hook_s'], '.3f')} | {ratio} "
            f"| {fmt(r['step_vs_fastest_alt'], '.2f', 'x')} | {fmt(r['cold_vs_uv'], '.2f', 'x')} "
            f"| {r['vs_target'] or '-'} | {fmt(r['zip_bytes'], ',')} "
            f"| {unzipped} | {fmt(r['pyc_files'])} "
            f"| {fmt(r['peak_rss_mib'], '.0f')} | {cell(r['check'] or '-')} | {status} |"
        )
    return header + "\n".join(lines) + "\n"


def import_table(imports: dict[str, Any]) -> str:
    if not imports:
        return ""
    if "error" in imports:
        return f"\nCold import: not measured ({imports['error']}).\n"
    base = imports["baseline (empty interpreter)"]
    out = [
        f"\nCold import on {IMPORT_TARGET}, {imports['set']} set (`{imports['python']} -I -S -B "
        f'-c "...; {imports["statement"]}"`, median of fresh processes; an empty interpreter '
        f"takes {fmt(base.get('median'), '.3f')} s):\n",
        "| hatch-lambda archive | .pyc in archive | median s | runs (s) | status |",
        "|---|--:|--:|---|---|",
    ]
    for name, v in imports["variants"].items():
        runs = ", ".join(f"{t:.3f}" for t in v.get("seconds", []))
        status = (
            "ok" if v.get("ok") else v.get("status", "failed") + ": " + cell(v.get("error") or "")
        )
        out.append(
            f"| {name} | {fmt(v.get('pyc_files'))} | {fmt(v.get('median'), '.3f')} | {runs} "
            f"| {status} |"
        )
    return "\n".join(out) + "\n"


def render_markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    sets = "; ".join(
        f"{name}: {', '.join(DEPENDENCY_SETS[name])}" for name in report["config"]["sets"]
    )
    warning = (
        f"**Interrupted by {report['interrupted']}: the rows below are what was measured before "
        f"it; the rest was not run.**\n\n"
        if report["interrupted"]
        else ""
    )
    return (
        f"# hatch-lambda benchmark\n\n{warning}"
        f"- date: {report['date']}\n"
        f"- machine: {machine['cpu_count']} CPUs, {machine['platform']}\n"
        f"- versions: {versions}\n"
        f"- dependency sets: {sets}\n"
        f"- runs per measurement: {report['config']['runs']}; wall time of the whole benchmark: "
        f"{report['elapsed_s']:.0f} s\n"
        f"- targets for hatch-lambda: cold <= {COLD_X_UV_TARGET}x uv cold; warm <= "
        f"{ABOVE_HOOK_TARGET['warm']} s and code change <= {ABOVE_HOOK_TARGET['code change']} s "
        f"above the do-nothing hook (`hook` rows) of the same set, target and mode\n\n"
        + main_table(report["rows"])
        + import_table(report["imports"])
    )
