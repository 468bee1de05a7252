"""Speed targets of issue #6, measured in one run on this machine (table + JSON).

* P1 - CPU backend, one UHD frame of a two-layer scene from a 12 MP photo: median time from
  camera to display pixels, as the CLI makes them (render, hole fill, composite; target
  <= 100 ms). The Frame-only render (``renderer.render``) is printed beside it.
* P2 - a 10 s UHD H.264 shot, whole command, against encoding the same kind of frames alone
  (target <= 1.3x the encode-only time).
* P3 - 1080p preview: render + composite per frame with the preview mesh (``--spacing 8``,
  vertices about 8 output pixels apart; target >= 30 frames/s); the full-quality HD figure
  (default spacing 2.5) is printed beside it.
* P4 - peak RSS of the whole command for a 24 MP photo (the largest photo here, 21.4 MP,
  resized to 6000x4000 and saved as a JPEG) rendered to UHD (target <= 2.5 GB).
* Stage shares: scene build, render and encode, so the next bottleneck is visible.
* ``--depthflow`` (issue #20): benchmarks/vs_depthflow.py's UHD row (DepthFlow 1.0.1 in its own
  venv against stillcam's render, frames/s) measured between P1 and P3 of the same run, its ratio
  in the table (goal >= 88x).
* ``--mesh-error E`` (issue #20): P1 with the full grid against the adaptive mesh
  (``--mesh-error E``, several values allowed), frames timed interleaved in one process, so
  the ratio holds on a shared, noisy machine; ``--only-p1`` skips P2-P4.

Inputs: ``nasa-53884.jpg`` (4256x2832) and ``tony-webster-97532.jpg`` (5672x3781) from
../shared/data/photos, each with the synthetic layered depth of benchmarks/scene_build.py
(a ramp plus 12 sharp-edged objects, so the scene has a background layer), move
``orbit(degrees=8)``.

Run: python benchmarks/speed.py [--seconds 10] [--frames 12] [--depthflow] [--mesh-error 0.1 [--only-p1]]
Writes benchmarks/results/speed.json. Skips cleanly when the photos are absent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scene_build import synthetic_depth
from stillcam_run import run_stillcam, save_results

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "photos"
PHOTO_12MP = PHOTOS / "nasa-53884.jpg"
PHOTO_LARGE = PHOTOS / "tony-webster-97532.jpg"
MOVE = "orbit(degrees=8)"


def _inputs(photo: Path):
    from stillcam import load_image
    from stillcam.depth import DepthMap

    picture = load_image(photo)
    return picture, DepthMap(synthetic_depth(picture.width, picture.height), "synthetic layered", "-")


PREVIEW_SPACING = 8.0


def _options(size: str, seconds: float, spacing: float | None = None, mesh_error: float | None = None):
    """The benchmark's options; ``mesh_error`` None: the default ``--mesh-error``."""
    from stillcam import RenderOptions, ShotSettings
    from stillcam.scene import SceneSettings

    given = {"spacing": spacing, "mesh_error": mesh_error}
    scene = SceneSettings(**{k: v for k, v in given.items() if v is not None})
    return RenderOptions(shot=ShotSettings(move=MOVE, size=size, duration=seconds, fps="24"), scene=scene)


def render_times(
    picture, depth, size: str, frames: int, renderer_name: str = "cpu", spacing: float | None = None
) -> dict:
    """Scene build and per-frame render (+ composite) times at ``size``."""
    from dataclasses import replace

    from stillcam import get_renderer
    from stillcam.output.frames import display_frame
    from stillcam.pipeline import plan_shot

    options = _options(size, 4.0, spacing)
    options = replace(options, render=replace(options.render, renderer=renderer_name))
    start = time.perf_counter()
    scene, path, _ = plan_shot(picture, depth, options)
    build = time.perf_counter() - start
    renderer = get_renderer(options.render)
    renderer.render(scene, path.cameras[0])  # compile / warm up
    display_frame(renderer, scene, path.cameras[0], options.output, fill=options.scene.fills)
    render, display = [], []
    for camera in path.cameras[:: max(1, len(path) // frames)][:frames]:
        t0 = time.perf_counter()
        renderer.render(scene, camera)
        t1 = time.perf_counter()
        display_frame(renderer, scene, camera, options.output, fill=options.scene.fills)
        display.append(time.perf_counter() - t1)
        render.append(t1 - t0)
    return {
        "size": size,
        "triangles": int(scene.triangles.shape[0]),
        "background_triangles": int(scene.background_triangles),
        "plan_and_build_s": build,
        "render_ms_median": 1000 * statistics.median(render),
        "render_ms_min": 1000 * min(render),
        "frame_ms_median": 1000 * statistics.median(display),
        "frame_ms_min": 1000 * min(display),
    }


def compare_meshes(picture, depth, errors: list[float], frames: int) -> dict:
    """P1 (UHD, camera to display pixels) for the full grid and each ``--mesh-error``, frames
    timed interleaved: camera by camera, every scene in turn. Each also "no culling": the
    cpu backend's background-layer culling off (the same scene with
    ``background_triangles=0``, so all its triangles are drawn; the same bytes)."""
    from dataclasses import replace

    from stillcam import get_renderer
    from stillcam.output.frames import display_frame
    from stillcam.pipeline import plan_shot

    results, scenes = {}, {}
    for error in [0.0, *errors]:
        options = _options("UHD", 4.0, mesh_error=error)
        start = time.perf_counter()
        scene, path, _ = plan_shot(picture, depth, options)
        row = {
            "mesh_error": error,
            "triangles": int(scene.triangles.shape[0]),
            "background_triangles": int(scene.background_triangles),
            "vertices": int(scene.vertices.shape[0]),
            "plan_and_build_s": time.perf_counter() - start,
        }
        for cull in (True, False):
            name = f"--mesh-error {error:g}" + ("" if cull else ", no culling")
            results[name] = {**row, "culling": cull, "frame_ms": []}
            scenes[name] = (scene if cull else replace(scene, background_triangles=0), options)
    # One renderer per scene: a renderer's work arrays are sized to its scene (a shared one
    # would reallocate them at every change of scene, charged to the first of each size).
    renderers = {name: get_renderer(options.render) for name in scenes}
    cameras = path.cameras[:: max(1, len(path) // frames)][:frames]
    first = {}
    for name, (scene, options) in scenes.items():  # compile / warm up
        first[name] = display_frame(
            renderers[name], scene, cameras[0], options.output, fill=options.scene.fills
        )
    for error in [0.0, *errors]:  # culling is exact: the same bytes
        name = f"--mesh-error {error:g}"
        results[name]["same_bytes_without_culling"] = bool(
            np.array_equal(first[name], first[name + ", no culling"])
        )
    for camera in cameras:
        for name, (scene, options) in scenes.items():
            t0 = time.perf_counter()
            display_frame(renderers[name], scene, camera, options.output, fill=options.scene.fills)
            results[name]["frame_ms"].append(1000 * (time.perf_counter() - t0))
    dense = results["--mesh-error 0, no culling"]  # the renderer before issue #20
    for name, row in results.items():
        row["frame_ms_median"] = statistics.median(row["frame_ms"])
        ratios = [a / b for a, b in zip(row["frame_ms"], dense["frame_ms"], strict=True)]
        row["ratio_to_full_grid_no_culling"] = statistics.median(ratios)
        print(
            f"P1 {name:31} {row['triangles']:>10,} triangles ({row['background_triangles']:,} "
            f"background), build {row['plan_and_build_s']:.1f} s, frame {row['frame_ms_median']:.0f} ms "
            f"median, x{row['ratio_to_full_grid_no_culling']:.2f}"
            + (f", same bytes without culling: {row['same_bytes_without_culling']}" if row["culling"] else "")
        )
    return results


def encode_only(picture, depth, seconds: float) -> dict:
    """Encode ``seconds`` of UHD frames alone: 24 real frames of the shot, cycled."""
    from stillcam import get_renderer
    from stillcam.output import OutputSettings, open_sink, to_display
    from stillcam.output.targets import parse_output
    from stillcam.pipeline import plan_shot

    options = _options("UHD", 1.0)
    scene, path, _ = plan_shot(picture, depth, options)
    renderer = get_renderer(options.render)
    images = [to_display(renderer.render(scene, c), (0.0, 0.0, 0.0), 8) for c in path.cameras]
    count = round(seconds * 24)
    with tempfile.TemporaryDirectory() as folder:
        sink = open_sink(
            parse_output(Path(folder) / "e.mp4"),
            3840,
            2160,
            Fraction(24),
            1001,
            count,
            OutputSettings(),
            overwrite=True,
        )
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(count):
            sink.write(images[i % len(images)])
        sink.commit()
        return {"frames": count, "wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}


def _photo_24mp(folder: Path) -> Path:
    """The largest photo here resized to 6000x4000 (24.0 MP), JPEG quality 95."""
    from PIL import Image

    path = folder / "photo-24mp.jpg"
    with Image.open(PHOTO_LARGE) as image:
        image.convert("RGB").resize((6000, 4000), Image.Resampling.LANCZOS).save(path, quality=95)
    return path


def whole_command(photo: Path, z: np.ndarray, seconds: float, folder: Path) -> dict:
    """``stillcam render`` in a fresh process: wall time and peak RSS."""
    depth_file = folder / f"{photo.stem}.npy"
    np.save(depth_file, z)
    args = [
        "render",
        str(photo),
        "--depth",
        str(depth_file),
        "--move",
        MOVE,
        "--size",
        "UHD",
        "--duration",
        str(seconds),
        "--fps",
        "24",
        "-o",
        str(folder / f"{photo.stem}.mp4"),
        "--quiet",
        "--overwrite",
    ]
    return {"photo": photo.name, "frames": round(seconds * 24), **run_stillcam(args)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the P2 shot")
    parser.add_argument("--frames", type=int, default=12, help="frames timed for P1/P3")
    parser.add_argument(
        "--mesh-error",
        type=float,
        action="append",
        default=[],
        help="also time P1 with this --mesh-error, interleaved with the full grid (repeatable)",
    )
    parser.add_argument("--only-p1", action="store_true", help="with --mesh-error: skip P2-P4")
    parser.add_argument(
        "--depthflow",
        action="store_true",
        help="also vs_depthflow.py's UHD row (DepthFlow in its own venv), between P1 and P3",
    )
    parser.add_argument("--depthflow-frames", type=int, default=10, help="UHD frames for --depthflow")
    args = parser.parse_args()
    if not (PHOTO_12MP.is_file() and PHOTO_LARGE.is_file()):
        print("skipped: the photos under ../shared/data/photos are absent")
        return 0
    picture, depth = _inputs(PHOTO_12MP)
    if args.mesh_error:
        meshes = compare_meshes(picture, depth, args.mesh_error, args.frames)
        if args.only_p1:
            save_results("speed_mesh", {"P1_meshes": meshes})
            return 0
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        photo_24mp = _photo_24mp(Path(tmp))
        large_picture, large_depth = _inputs(photo_24mp)
        results["P4"] = whole_command(photo_24mp, large_depth.z, 1.0, Path(tmp))  # first: RSS of children
        results["P4"]["megapixels"] = large_picture.width * large_picture.height / 1e6
        del large_picture, large_depth
        results["P1"] = render_times(picture, depth, "UHD", args.frames)
        if args.depthflow:  # interleaved with speed.py's own rows, in the same run
            import vs_depthflow

            python = vs_depthflow.ensure_venv(vs_depthflow.DEFAULT_VENV)
            ramp = vs_depthflow.ramp_depth(Path(tmp))
            results["depthflow_UHD"] = vs_depthflow.compare(
                python, ramp, "UHD", 3840, 2160, args.depthflow_frames
            )
        results["P3"] = render_times(picture, depth, "HD", 2 * args.frames, spacing=PREVIEW_SPACING)
        results["HD_full"] = render_times(picture, depth, "HD", 2 * args.frames)
        try:
            results["gl_UHD"] = render_times(picture, depth, "UHD", args.frames, "gl")
        except Exception as exc:  # no moderngl / EGL here
            results["gl_UHD"] = {"error": str(exc)}
        results["encode"] = encode_only(picture, depth, args.seconds)
        results["P2"] = whole_command(PHOTO_12MP, depth.z, args.seconds, Path(tmp))
    p1, p2, p3, p4, enc = results["P1"], results["P2"], results["P3"], results["P4"], results["encode"]
    preview_fps = 1000 / p3["frame_ms_median"]
    per_frame = {
        "build": p1["plan_and_build_s"] / p2["frames"],
        "render + composite": p1["frame_ms_median"] / 1000,
        "encode": enc["wall_s"] / enc["frames"],
    }
    total = sum(per_frame.values())
    rows = [
        (
            "P1 UHD frame, 12 MP two-layer scene (median)",
            f"{p1['frame_ms_median']:.0f} ms",
            "<= 100 ms",
            p1["frame_ms_median"] / 100,
        ),
        (
            "P2 10 s UHD H.264, whole command / encode alone",
            f"{p2['wall_s']:.1f} s / {enc['wall_s']:.1f} s",
            "<= 1.3x",
            p2["wall_s"] / enc["wall_s"] / 1.3,
        ),
        (
            f"P3 1080p preview, --spacing {PREVIEW_SPACING:g} (render + composite)",
            f"{preview_fps:.1f} frames/s",
            ">= 30 frames/s",
            30 / preview_fps,
        ),
        (
            f"P4 peak RSS, {p4['megapixels']:.1f} MP photo -> UHD",
            f"{(p4['peak_rss_mb'] or 0):.0f} MB",
            "<= 2500 MB",
            (p4["peak_rss_mb"] or 0) / 2500,
        ),
    ]
    if "depthflow_UHD" in results:
        row = results["depthflow_UHD"]
        rows.append(
            (
                "DepthFlow ratio, UHD render (stillcam / DepthFlow)",
                f"{row['ratio']:.1f}x",
                ">= 88x",
                88 / row["ratio"],
            )
        )
    print(f"{'target':52} {'measured':>22} {'goal':>15} {'x goal':>7}")
    for name, value, goal, ratio in rows:
        print(f"{name:52} {value:>22} {goal:>15} {ratio:7.2f}")
    print(
        f"\nP1 scene: {p1['triangles']:,} triangles ({p1['background_triangles']:,} background layer); "
        f"Frame-only render (renderer.render) {p1['render_ms_median']:.0f} ms median"
    )
    full = results["HD_full"]
    print(
        f"1080p at full quality (spacing 2.5, {full['triangles']:,} triangles): "
        f"{1000 / full['frame_ms_median']:.1f} frames/s; P3 preview mesh {p3['triangles']:,} triangles"
    )
    gl = results["gl_UHD"]
    if "render_ms_median" in gl:
        print(f"gl backend, same UHD frames on this machine's OpenGL: {gl['render_ms_median']:.0f} ms median")
    else:
        print(f"gl backend not measured: {gl['error']}")
    print(
        "share of a UHD frame's time (build spread over the shot): "
        + ", ".join(f"{k} {v / total:.0%}" for k, v in per_frame.items())
    )
    results["ratios_to_goal"] = {name.split()[0]: ratio for name, _, _, ratio in rows}
    results["shares"] = {k: v / total for k, v in per_frame.items()}
    if args.mesh_error:
        results["P1_meshes"] = meshes
    save_results("speed", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
