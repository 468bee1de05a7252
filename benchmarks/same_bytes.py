"""Same bytes before and after a refactor: hashes of the demo's video, a UHD PNG sequence of a
Middlebury photo, an EXR sequence and a ``.glb`` export, each rendered by the command line in
a fresh process.

    python benchmarks/same_bytes.py                 # prints a table, writes results/same_bytes.json
    python benchmarks/same_bytes.py --compare A.json   # and says which hashes differ from A.json

Middlebury rows are skipped when ../shared/data is absent. Recipes are left out of the hashes
(they record absolute paths); every frame file and export is hashed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from middlebury import fill_unknown
from stillcam_run import run_stillcam, save_results

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "middlebury2003" / "teddy"


def _digest(folder: Path, pattern: str) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in folder.glob(pattern) if not p.name.endswith(".recipe.json"))
    if not files:
        raise SystemExit(f"no files {pattern} in {folder}")
    for file in files:
        h.update(file.name.encode())
        h.update(file.read_bytes())
    return h.hexdigest()


def cases(work: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (stillcam arguments, glob of the files to hash)."""
    found = {
        "demo video": (["demo", "-o", str(work / "demo.mp4"), "--quiet"], "demo.mp4"),
        "demo exr + glb": (
            [
                "demo",
                "--example-size",
                "480x270",
                "--duration",
                "0.5",
                "-o",
                str(work / "d.####.exr"),
                "--export",
                str(work / "d.glb"),
                "--pass",
                "depth",
                "--quiet",
            ],
            "d.*",
        ),
    }
    if DATA.is_dir():
        disparity = work / "disp2.npy"  # pixels; the unknowns (0) filled as the quality benchmark does
        np.save(disparity, fill_unknown(cv2.imread(str(DATA / "disp2.png"), cv2.IMREAD_UNCHANGED) / 4.0))
        mb = [
            "--depth",
            str(disparity),
            "--depth-kind",
            "disparity",
            "--baseline",
            "0.16",
            "--focal-mm",
            "35",
        ]
        found["middlebury UHD png"] = (
            [
                "render",
                str(DATA / "im2.png"),
                *mb,
                "--move",
                "orbit",
                "--set",
                "degrees=6",
                "--duration",
                "0.25",
                "--size",
                "UHD",
                "-o",
                str(work / "mb.####.png"),
                "--quiet",
            ],
            "mb.*.png",
        )
        found["middlebury glb"] = (
            ["export", str(DATA / "im2.png"), *mb, "--move", "orbit", "-o", str(work / "mb.glb")],
            "mb.glb",
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="a results JSON of an earlier run")
    parser.add_argument("--name", default="same_bytes", help="results file name (no .json)")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (argv, pattern) in cases(Path(tmp)).items():
            run = run_stillcam(argv)
            rows[name] = {"sha256": _digest(Path(tmp), pattern), "wall_s": round(run["wall_s"], 2)}
    before = json.loads(args.compare.read_text()) if args.compare else {}
    print(f"{'case':22} {'sha256':16} {'s':>6}  same")
    for name, row in rows.items():
        same = "" if name not in before else ("yes" if before[name]["sha256"] == row["sha256"] else "NO")
        print(f"{name:22} {row['sha256'][:16]} {row['wall_s']:6.1f}  {same}")
    print(f"wrote {save_results(args.name, rows)}")
    if any(name in before and before[name]["sha256"] != row["sha256"] for name, row in rows.items()):
        sys.exit(1)


if __name__ == "__main__":
    main()
