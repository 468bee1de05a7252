"""How fast a bad option fails: each command names a 12 MP photo and its depth map but has one
bad option (or output), so stillcam must refuse it before decoding either. Baseline, in the
same run and interleaved: ``stillcam --version`` (the interpreter and stillcam's imports).

    python benchmarks/fail_fast.py        # prints a table, writes results/fail_fast.json

Goal (issue #13): under 2 s each, the interpreter's start included. Skips without ../shared/data.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stillcam_run import save_results

PHOTO = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "nasa-53884.jpg"
REPEATS = 3
CASES = {
    "--size 12x": ["--size", "12x"],
    "--fps abc": ["--fps", "abc"],
    "--frames 5": ["--frames", "5"],
    "--set bogus=1": ["--move", "orbit", "--set", "bogus=1"],
    "--move 'orbit(degrees=5'": ["--move", "orbit(degrees=5"],
    "-o shot.txt": ["-o", "{tmp}/shot.txt"],
    "--codec prores-422hq -o shot.mp4": ["--codec", "prores-422hq"],
}


def _seconds(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "stillcam", *argv], capture_output=True, text=True)
    return time.perf_counter() - start, result.returncode


def main() -> None:
    if not PHOTO.is_file():
        raise SystemExit(f"skipped: {PHOTO} is absent")
    with tempfile.TemporaryDirectory() as tmp:
        depth = Path(tmp) / "depth.npy"
        np.save(depth, np.full((2832, 4256), 5.0, np.float32))  # the photo's size (12 MP)
        base = ["render", str(PHOTO), "--depth", str(depth)]
        commands = {"stillcam --version (baseline)": ["--version"]}
        for name, extra in CASES.items():
            extra = [e.format(tmp=tmp) for e in extra]
            output = [] if "-o" in extra else ["-o", f"{tmp}/shot.mp4"]
            commands[name] = [*base, *extra, *output]
        times: dict[str, list[float]] = {name: [] for name in commands}
        codes: dict[str, int] = {}
        for _ in range(REPEATS):  # interleaved: the machine's speed drifts
            for name, argv in commands.items():
                seconds, codes[name] = _seconds(argv)
                times[name].append(seconds)
    baseline = statistics.median(times["stillcam --version (baseline)"])
    rows = []
    print(f"{'command':36} {'exit':>4} {'median s':>9} {'/ baseline':>10}")
    for name in commands:
        median = statistics.median(times[name])
        rows.append({"command": name, "exit": codes[name], "median_s": median, "ratio": median / baseline})
        print(f"{name:36} {codes[name]:4d} {median:9.2f} {median / baseline:10.2f}")
    print(f"wrote {save_results('fail_fast', rows)}")


if __name__ == "__main__":
    main()
