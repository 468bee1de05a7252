"""``stillcam qc``: probe an output, print the report as tables (Rich), write it as JSON, and
return the exit code (0 every check passed, 1 a check failed; bad input raises
:class:`~stillcam.errors.InputError`, exit 2)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from ..io.files import write_text_atomic
from ..output.targets import check_distinct
from .report import QcReport, qc, report_path
from .spec import DEFAULT_SPEC, load_spec


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "unknown"}[value]


def _media_rows(report: QcReport) -> list[tuple[str, str]]:
    m = report.media
    rate = (
        "none in the files"
        if m.fps is None
        else f"{m.fps.numerator}/{m.fps.denominator} ({float(m.fps):.3f})"
    )
    frames = f"{m.frames}" + (f" ({m.first_frame}-{m.last_frame})" if m.kind == "sequence" else "")
    colour = m.colour
    rows = [
        ("output", f"{m.path} ({m.kind}, {m.container})"),
        ("recipe", str(report.recipe) if report.recipe else "none"),
        ("size", f"{m.width}x{m.height}, aspect {m.aspect}, pixels {m.pixel_aspect}"),
        ("codec", f"{m.codec}, fourcc {m.fourcc or '-'}, profile {m.profile or '-'}"),
        (
            "pixels",
            f"{m.pix_fmt}: {m.bit_depth}-bit {m.sample}, {m.chroma}, alpha {'yes' if m.alpha else 'no'}",
        ),
        (
            "colour",
            f"primaries {colour.primaries}, transfer {colour.transfer}, matrix {colour.matrix}, "
            f"range {colour.range}",
        ),
        ("fps", rate),
        ("frames", frames),
        ("timecode", m.timecode or "none"),
    ]
    if m.bit_rate:
        rows.append(("bit rate", f"{m.bit_rate / 1e6:.1f} Mb/s"))
    return rows


def _shot_rows(report: QcReport) -> list[tuple[str, str]]:
    shot = report.shot
    upscale = (
        "not recorded"
        if shot["upscale"] is None
        else f"{shot['upscale']:.4f} at frame {shot['upscale_frame']}"
    )
    reveal = (
        "not recorded" if shot["reveal"] is None else f"{shot['reveal']:.4f} at frame {shot['reveal_frame']}"
    )
    rows = [("upscale", upscale + " (output px per photo px; > 1 = upscaled)"), ("largest reveal", reveal)]
    if shot["collision_frame"] is not None:
        rows.append(("collision", f"frame {shot['collision_frame']}"))
    for model in report.models or []:
        rows.append(
            (
                f"{model['role']} model",
                f"{model['name']} {model.get('repo') or ''}@{(model.get('revision') or '-')[:12]}, "
                f"licence {model.get('licence') or 'unknown'}, commercial {_yes(model.get('commercial'))}",
            )
        )
    if not report.models:
        rows.append(("models", "none recorded" if report.recipe else "unknown (no recipe)"))
    credential = report.credential
    if not credential["checked"]:
        shown = credential["note"]
    else:
        shown = "valid" if credential["valid"] else ("present, INVALID" if credential["present"] else "none")
        if credential["errors"]:
            shown += ": " + "; ".join(credential["errors"])
    rows.append(("content credential", shown))
    return rows


def print_report(report: QcReport, out: TextIO) -> None:
    """The report as two tables (what the file is; the checks) and a verdict line."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=max(100, Console(file=out).width), highlight=False, soft_wrap=False)
    facts = Table(title=f"stillcam qc: {report.media.path}", show_header=False, title_justify="left")
    facts.add_column("field", style="bold")
    facts.add_column("value")
    for name, value in [*_media_rows(report), *_shot_rows(report)]:
        facts.add_row(name, value)
    console.print(facts)
    checks = Table(title=f"checks (spec: {report.spec.name})", title_justify="left")
    for column in ("check", "expected", "actual", "result"):
        checks.add_column(column)
    for check in report.checks:
        style = {True: "green", False: "bold red", None: "yellow"}[check.ok]
        checks.add_row(check.name, check.expected, check.actual, f"[{style}]{check.verdict}[/{style}]")
    console.print(checks)
    passed, unknown = sum(c.ok is True for c in report.checks), sum(c.ok is None for c in report.checks)
    also = f", {unknown} not measurable" if unknown else ""
    if report.passed:
        console.print(f"QC passed: {passed} of {len(report.checks)} checks passed{also}")
    else:
        console.print(
            f"QC FAILED: {', '.join(report.failed)} ({passed} of {len(report.checks)} passed{also})"
        )


def run_qc(
    subject: str | Path,
    *,
    spec: str | None = None,
    json_path: str | Path | None = None,
    write_json: bool = True,
    out: TextIO | None = None,
) -> tuple[int, QcReport]:
    """``stillcam qc SUBJECT``: the exit code (0 passed, 1 a check failed) and the report.

    Args:
        subject: a video, a sequence (``shot.####.exr`` or one of its frames) or a recipe.
        spec: a shipped spec's name or a spec file (None: only the upscale check).
        json_path: where the JSON report goes (None: beside the output, ``shot.mov.qc.json``;
            ``"-"``: on ``out`` instead of the tables).
        write_json: False: no JSON file (the tables only).
        out: where the tables go (default: stdout).

    Raises:
        InputError: a bad spec (naming the field), an output that is not there or cannot
            be probed, a report path that is the output or its recipe (exit 2).
        OutputError: the report cannot be written (exit 1).
    """
    out = sys.stdout if out is None else out
    checked = load_spec(spec) if spec is not None else DEFAULT_SPEC
    report = qc(subject, checked)
    data = json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n"
    if json_path == "-":
        out.write(data)
        return (0 if report.passed else 1), report
    path = None
    if write_json:  # checked before anything is printed
        path = Path(json_path) if json_path is not None else report_path(report.target)
        inputs = [("recipe", report.recipe)] if report.recipe else []
        check_distinct([("output", report.target), ("QC report", path)], inputs)
    print_report(report, out)
    if path is not None:
        write_text_atomic(path, data, "QC report")
        out.write(f"report: {path}\n")
    return (0 if report.passed else 1), report
