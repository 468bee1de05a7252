"""Cinematography effects' cost: UHD frame time without and with each effect (issue #18).

Photo: ../shared/data/photos/jad-limcaco-183877.jpg (4896 x 2968) with benchmarks/scene_build.py's
synthetic depth (a ramp with discs and bars in front, real depth edges); a 10-degree pan to UHD,
4 s at 24 fps, cpu backend. Each row is one way to make a frame's display pixels (what the main
sink gets); rows are timed interleaved (the machine's speed drifts), on ``--frames`` frames spread
over the shot, ``--repeat`` times each. Prints a table (median ms per frame, ratio to plain),
writes benchmarks/results/cinematography.json. A new effect adds a function to ``ROWS``.

Run: python benchmarks/cinematography.py [--repeat N] [--frames N]   (skips without the photo)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "jad-limcaco-183877.jpg"
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from scene_build import synthetic_depth  # noqa: E402


class Shot:
    """What every row renders: the scene, the whole shot's cameras, the renderer, the options."""

    def __init__(self) -> None:
        from stillcam import RenderOptions, load_image
        from stillcam.camera import Camera, MoveContext, build_path, fit_output_camera, subject_depth
        from stillcam.depth import DepthMap
        from stillcam.render import get_renderer
        from stillcam.scene.plan import scene_for

        picture = load_image(PHOTO)
        z = synthetic_depth(picture.width, picture.height)
        source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
        start = fit_output_camera(source, 3840, 2160)
        self.path = build_path(
            "pan", {"degrees": 10.0}, MoveContext(start, subject_depth(z)), duration_s=4.0, fps=Fraction(24)
        )
        self.options = RenderOptions()
        self.scene = scene_for(
            picture, DepthMap(z, "synthetic", "-"), source, self.path.cameras, self.options.scene
        )
        self.renderer = get_renderer(self.options.render)
        self.photo_px = [picture.width, picture.height]
        self.subject_m = float(subject_depth(z))  # --focus subject


def plain(shot: Shot, frame: int) -> np.ndarray:
    """Today's frame: the fused display shortcut (cpu backend)."""
    from stillcam.output.frames import display_frame

    camera = shot.path.cameras[frame - shot.path.first_frame]
    return display_frame(
        shot.renderer, shot.scene, camera, shot.options.output, fill=shot.options.scene.fills
    )


def float_path(shot: Shot, frame: int) -> np.ndarray:
    """One render through the float frame (shading, hole fill, then display pixels): what each
    sub-frame of a blurred frame costs, without the fused shortcut."""
    from stillcam.output.frames import shaded_frame
    from stillcam.output.writers import to_display

    camera = shot.path.cameras[frame - shot.path.first_frame]
    frame_ = shaded_frame(shot.renderer, shot.scene, camera, fill=shot.options.scene.fills)
    return to_display(frame_, shot.options.output.matte, shot.options.output.bit_depth)


def motion_blur_8(shot: Shot, frame: int) -> np.ndarray:
    """--shutter 180 --shutter-samples 8: the mean of 8 sub-frame renders, then display pixels."""
    from stillcam.camera.shutter import subframe_cameras
    from stillcam.output.frames import motion_frame
    from stillcam.output.writers import to_display

    cameras = subframe_cameras(shot.path, frame, 180.0, 8)
    blurred = motion_frame(shot.renderer, shot.scene, cameras, fill=shot.options.scene.fills)
    return to_display(blurred, shot.options.output.matte, shot.options.output.bit_depth)


def depth_of_field(shot: Shot, frame: int, fstop: float) -> np.ndarray:
    """--fstop N (--focus subject): the float frame, the thin lens's blur, display pixels."""
    from stillcam.output.frames import display_frame
    from stillcam.render.dof import LensRenderer

    camera = shot.path.cameras[frame - shot.path.first_frame]
    fill = shot.options.scene.fills
    lens = LensRenderer(shot.renderer, fstop=fstop, focus_m=shot.subject_m, fill=fill)
    return display_frame(lens, shot.scene, camera, shot.options.output, fill=fill)


#: Row name -> how it makes frame N's display pixels.
ROWS: dict[str, Callable[[Shot, int], Any]] = {
    "plain": plain,
    "plain, float path": float_path,
    "motion blur 180 deg x 8": motion_blur_8,
    "depth of field f/2.8": lambda shot, frame: depth_of_field(shot, frame, 2.8),
    "depth of field f/8": lambda shot, frame: depth_of_field(shot, frame, 8.0),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--frames", type=int, default=2)
    parser.add_argument("--rows", nargs="*", default=list(ROWS), help="rows to time (default: all)")
    args = parser.parse_args()
    if not PHOTO.is_file():
        print(f"skipped: {PHOTO.name} not found under shared/data/photos")
        return 0
    t0 = time.perf_counter()
    shot = Shot()
    setup_s = time.perf_counter() - t0
    n = len(shot.path)
    count = max(args.frames, 1)
    frames = [shot.path.first_frame + (2 * k + 1) * n // (2 * count) for k in range(count)]  # mid-slices
    for name in args.rows:  # warm up compiled kernels and buffers
        ROWS[name](shot, frames[0])
    times: dict[str, list[float]] = {name: [] for name in args.rows}
    for _ in range(args.repeat):
        for frame in frames:
            for name in args.rows:  # interleaved
                start = time.perf_counter()
                ROWS[name](shot, frame)
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times[args.rows[0]])
    result = {
        "photo_px": shot.photo_px,
        "output_px": [3840, 2160],
        "move": "pan(degrees=10), 4 s at 24 fps",
        "renderer": shot.options.render.renderer,
        "frames_timed": frames,
        "repeat": args.repeat,
        "setup_s": setup_s,
        "rows": {
            name: {
                "ms_median": 1000 * statistics.median(values),
                "ms_all": [1000 * v for v in values],
                "ratio_to_first": statistics.median(values) / base,
            }
            for name, values in times.items()
        },
    }
    print(f"UHD frame time, {shot.options.render.renderer} backend, {len(frames)} frames x {args.repeat}")
    print(f"{'row':28} {'ms/frame':>10} {'ratio':>7}")
    for name, row in result["rows"].items():
        print(f"{name:28} {row['ms_median']:10.0f} {row['ratio_to_first']:7.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cinematography.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
