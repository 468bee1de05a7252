"""Render speed and memory of a UHD shot from a real 10.7 MP photo (issue #2's measurement).

Measures, in one run on this machine:
  1. scene build time (mesh from photo + depth),
  2. render-only time per UHD frame of the cpu backend (median of the shot's frames),
  3. the whole ``stillcam render`` command (4 s at 24 fps, UHD, H.264) in a fresh process:
     wall time and peak RSS,
and prints the ratio of render time to total time per frame. Writes JSON to
benchmarks/results/render_speed.json.

The photo has no depth ground truth, so the depth is a smooth synthetic ramp (inverse depth
growing towards the bottom of the frame, 2 m to 60 m), written as a 16-bit PNG.

Run: python benchmarks/render_speed.py [--frames N]
Skips (exit 0, with a message) when ../shared/data/photos is absent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "sean-afnan-244576.jpg"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from stillcam_run import run_stillcam  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def write_ramp_depth(photo: Path, path: Path) -> None:
    """A 16-bit inverse-depth ramp of the photo's size: 0 at the top row, 65535 at the bottom."""
    height, width = cv2.imread(str(photo), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape
    height, width = height * 8, width * 8
    ramp = np.linspace(0.0, 1.0, height)[:, None] ** 2
    cv2.imwrite(str(path), np.broadcast_to(np.rint(ramp * 65535), (height, width)).astype(np.uint16))


def measure_render_only(photo: Path, depth: Path, frames: int) -> dict:
    from stillcam import RenderOptions, RenderSettings, ShotSettings, get_renderer, load_inputs, plan_shot
    from stillcam.depth import DepthSettings

    options = RenderOptions(
        shot=ShotSettings(move="dolly-in", size="UHD", duration=4.0, fps="24"),
        depth=DepthSettings(depth_kind="inverse-depth", near=2.0, far=60.0),
    )
    start = time.perf_counter()
    picture, depth_map = load_inputs(photo, depth, options)
    loaded = time.perf_counter()
    scene, path, _ = plan_shot(picture, depth_map, options)
    built = time.perf_counter()
    renderer = get_renderer(RenderSettings("cpu"))
    renderer.render(scene, path.cameras[0])  # compile / warm up
    times = []
    for camera in path.cameras[:: max(1, len(path) // frames)][:frames]:
        t0 = time.perf_counter()
        renderer.render(scene, camera)
        times.append(time.perf_counter() - t0)
    return {
        "photo_px": [picture.width, picture.height],
        "triangles": int(scene.triangles.shape[0]),
        "stride": scene.stride,
        "load_s": loaded - start,
        "scene_build_s": built - loaded,
        "render_ms_median": 1000 * statistics.median(times),
        "render_ms_min": 1000 * min(times),
        "frames_timed": len(times),
    }


def measure_cli(photo: Path, depth: Path, out_dir: Path) -> dict:
    args = [
        "render",
        str(photo),
        "--depth",
        str(depth),
        "--depth-kind",
        "inverse-depth",
        "--near",
        "2",
        "--far",
        "60",
        "--move",
        "dolly-in",
        "--duration",
        "4",
        "--fps",
        "24",
        "--size",
        "UHD",
        "-o",
        str(out_dir / "shot.mp4"),
        "--quiet",
    ]
    return {**run_stillcam(args), "frames": 96}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=12, help="frames timed for render-only")
    args = parser.parse_args()
    if not PHOTO.is_file():
        print(f"skipped: {PHOTO.name} not found under shared/data/photos")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        depth = Path(tmp) / "ramp_depth.png"
        write_ramp_depth(PHOTO, depth)
        cli = measure_cli(PHOTO, depth, Path(tmp))
        render = measure_render_only(PHOTO, depth, args.frames)
    per_frame_total_ms = 1000 * cli["wall_s"] / cli["frames"]
    result = {
        **render,
        **cli,
        "total_ms_per_frame": per_frame_total_ms,
        "render_share_of_total": render["render_ms_median"] / per_frame_total_ms,
    }
    rows = [
        ("photo", f"{render['photo_px'][0]}x{render['photo_px'][1]}"),
        ("triangles (stride)", f"{render['triangles']:,} ({render['stride']})"),
        ("scene build", f"{render['scene_build_s']:.2f} s"),
        ("render only, UHD frame (median)", f"{render['render_ms_median']:.0f} ms"),
        ("stillcam render 96 frames UHD H.264", f"{cli['wall_s']:.1f} s wall"),
        ("  per frame, everything", f"{per_frame_total_ms:.0f} ms"),
        ("  render share of it", f"{result['render_share_of_total']:.2f}"),
        ("peak RSS (whole command)", f"{cli['peak_rss_mb']:.0f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "render_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
