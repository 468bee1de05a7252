"""stillcam against DepthFlow 1.0.1 on the CPU: frames/s at 1920x1080 and 3840x2160 (issue #6).

DepthFlow (AGPL) is only a comparator: it is installed into its own virtual environment
(``--venv``, created when missing, with ``torch==2.13.0`` pinned so no CUDA build is pulled;
DepthFlow needs torch only for depth estimation, which is skipped by passing the depth map),
driven there by a small script, and none of its code enters this repository.

Both tools render the same photo and depth map for the same number of frames, render only
(DepthFlow's ``freewheel`` mode renders headless as fast as it can without exporting;
stillcam's cpu renderer is timed per frame after its scene is built), alternating tool by
tool and size by size in one run. DepthFlow runs on Mesa's llvmpipe (``WINDOW_BACKEND=headless
EGL=1 LIBGL_ALWAYS_SOFTWARE=1``), as it would on a laptop without a GPU.

Run: python benchmarks/vs_depthflow.py [--venv DIR] [--frames-hd 20] [--frames-4k 10]
(``benchmarks/speed.py --depthflow`` runs its UHD row between speed.py's own measurements.)
Writes benchmarks/results/vs_depthflow.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stillcam_run import save_results

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "sean-afnan-244576.jpg"
DEFAULT_VENV = ROOT / "benchmarks" / "results" / "depthflow-venv"

DRIVER = r"""
import math, sys, time
import numpy as np
from PIL import Image
from depthflow.scene import DepthScene

image, depth = sys.argv[1], sys.argv[2]
width, height, frames = (int(v) for v in sys.argv[3:6])

class Dolly(DepthScene):
    def update(self):  # a gentle dolly with a sideways drift, like DepthFlow's examples
        self.state.height = 0.2
        self.state.offset = (0.3 * math.sin(math.tau * self.cycle), 0.0)
        self.state.isometric = 0.4 + 0.2 * math.cos(math.tau * self.cycle)

scene = Dolly(backend="headless")
scene.input(image=np.array(Image.open(image).convert("RGB")), depth=np.array(Image.open(depth)))
start = time.perf_counter()
scene.main(width=width, height=height, fps=frames, time=1.0, freewheel=True)
print("SECONDS", time.perf_counter() - start)
"""


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "depthflow==1.0.1", "torch==2.13.0"], check=True
        )
    return python


def depthflow_fps(python: Path, image: Path, depth: Path, width: int, height: int, frames: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(DRIVER)
    env = {**os.environ, "WINDOW_BACKEND": "headless", "EGL": "1", "LIBGL_ALWAYS_SOFTWARE": "1"}
    result = subprocess.run(
        [str(python), script.name, str(image), str(depth), str(width), str(height), str(frames)],
        capture_output=True,
        text=True,
        env=env,
    )
    os.unlink(script.name)
    lines = [line for line in result.stdout.splitlines() if line.startswith("SECONDS")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"DepthFlow failed: {result.stderr.strip()[-800:]}")
    return frames / float(lines[-1].split()[1])


def stillcam_fps(image: Path, depth: Path, width: int, height: int, frames: int) -> float:
    from stillcam import RenderOptions, ShotSettings, get_renderer, load_inputs, plan_shot
    from stillcam.depth import DepthSettings

    options = RenderOptions(
        shot=ShotSettings(
            move="dolly-in(fraction=0.1) + truck(fraction=0.05)",
            size=f"{width}x{height}",
            duration=frames / 24,
            fps="24",
        ),
        depth=DepthSettings(depth_kind="inverse-depth", near=2.0, far=60.0),
    )
    picture, depth_map = load_inputs(image, depth, options)
    scene, path, _ = plan_shot(picture, depth_map, options)
    renderer = get_renderer(options.render)
    renderer.render(scene, path.cameras[0])
    times = []
    for camera in path.cameras:
        start = time.perf_counter()
        renderer.render(scene, camera)
        times.append(time.perf_counter() - start)
    return 1.0 / statistics.median(times)


def ramp_depth(folder: Path) -> Path:
    """The inverse-depth ramp both tools take (16-bit PNG, white = near, what DepthFlow
    expects), the photo's size, in ``folder``."""
    depth = Path(folder) / "depth.png"
    h, w = cv2.imread(str(PHOTO), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape
    ramp = np.linspace(0.0, 1.0, h * 8)[:, None] ** 2
    cv2.imwrite(str(depth), np.broadcast_to(np.rint(ramp * 65535), (h * 8, w * 8)).astype(np.uint16))
    return depth


def compare(python: Path, depth: Path, label: str, width: int, height: int, frames: int) -> dict:
    """DepthFlow, then stillcam, at one size: frames/s of each and their ratio (one row)."""
    theirs = depthflow_fps(python, PHOTO, depth, width, height, frames)
    ours = stillcam_fps(PHOTO, depth, width, height, frames)
    print(
        f"{label:4} {frames:3} frames  DepthFlow {theirs:8.3f} frames/s  "
        f"stillcam {ours:7.2f} frames/s  ratio {ours / theirs:7.1f}x"
    )
    return {
        "size": label,
        "frames": frames,
        "depthflow_fps": theirs,
        "stillcam_fps": ours,
        "ratio": ours / theirs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--frames-hd", type=int, default=20)
    parser.add_argument("--frames-4k", type=int, default=10)
    args = parser.parse_args()
    if not PHOTO.is_file():
        print(f"skipped: {PHOTO.name} not found under shared/data/photos")
        return 0
    python = ensure_venv(args.venv)
    with tempfile.TemporaryDirectory() as folder:
        depth = ramp_depth(Path(folder))
        rows = [
            compare(python, depth, "HD", 1920, 1080, args.frames_hd),
            compare(python, depth, "UHD", 3840, 2160, args.frames_4k),
        ]
    save_results("vs_depthflow", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
