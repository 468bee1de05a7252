"""Shared by the benchmarks: run the stillcam command line in a fresh process and time it;
save a benchmark's results as JSON."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def save_results(name: str, data: Any) -> Path:
    """Write ``data`` as ``benchmarks/results/<name>.json`` (the folder is git-ignored)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def run_stillcam(args: list[str]) -> dict:
    """``python -m stillcam ARGS``: the command, wall seconds and peak RSS in MB.

    The RSS comes from RUSAGE_CHILDREN, which keeps the largest child so far: it is None when
    an earlier child of this process peaked higher (run the one to measure first).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "stillcam", *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"stillcam {args[0]} failed: {result.stderr.strip()}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "command": " ".join(["stillcam", *args]),
        "wall_s": wall,
        "peak_rss_mb": peak / 1024 if peak > before else None,
    }
