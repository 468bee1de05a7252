"""docs/look.png: what the camera newly sees, default | --fill patch --outpaint patch
--flatten-rims, at 1:1 crops: the demo's 12° orbit (last frame, HD) and look.py's exact
blue-disc and cards scenes (orbit +12°, HD, with the ray-cast truth).

    python benchmarks/look_sheet.py        # about 6 minutes on two cores

Each crop is 1:1 (no scaling): silhouettes and revealed areas as a viewer sees them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "look.png"
AFTER = ["fill=patch", "outpaint=patch", "flatten_rims=true"]
#: (label, file stem in the dump, crop x0, y0, x1, y1) at HD.
CROPS = [
    ("demo orbit 12, last frame", "demo", 250, 470, 1250, 1010),
    ("blue disc, orbit +12", "blue-disc_orbitp12", 560, 120, 1560, 660),
    ("cards, orbit +12", "cards_orbitp12", 900, 180, 1900, 720),
]


def _label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (len(text) * 11 + 12, 26), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _demo(folder: Path, sets: list[str]) -> None:
    flags = []
    for item in sets:
        key, value = item.split("=")
        flag = "--" + key.replace("_", "-")
        flags += [flag] if value == "true" else [flag, value]
    command = [sys.executable, "-m", "stillcam", "demo", "--frames", "1096-1096", "--quiet"]
    subprocess.run([*command, *flags, "-o", str(folder / "demo.####.png")], check=True)
    (folder / "demo.1096.png").rename(folder / "demo_stillcam.png")


def _look(folder: Path, sets: list[str]) -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "look.py"), "--no-middlebury"]
    command += ["--name", "look_sheet"]
    command += ["--dump", str(folder), "--dump-pose", "orbit+12"]
    for item in sets:
        command += ["--set", item]
    subprocess.run(command, check=True, capture_output=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before", Path(tmp) / "after"
        for folder, sets in ((before, []), (after, AFTER)):
            folder.mkdir()
            _demo(folder, sets)
            _look(folder, sets)
        rows = []
        for label, stem, x0, y0, x1, y1 in CROPS:
            tiles = []
            truth = before / f"{stem}_truth.png"
            if truth.is_file():
                tiles.append(_label(cv2.imread(str(truth))[y0:y1, x0:x1], f"{label}: truth"))
            for name, folder in (("default", before), ("patch + flatten-rims", after)):
                image = cv2.imread(str(folder / f"{stem}_stillcam.png"))
                tiles.append(_label(image[y0:y1, x0:x1], f"{label}: {name}"))
            while len(tiles) < 3:
                tiles.insert(0, _label(np.full_like(tiles[0], 255), f"{label}: no ray-cast truth"))
            rows.append(np.hstack(tiles))
        OUT.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(OUT), np.vstack(rows), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
