"""The texture level (scenes seen at half size or less are built from the photo box-filtered
by 2 or 4): quality against the area-averaged ideal and HD frame time, with and without it.

* Quality: ``nasa-53884.jpg`` (12.1 MP) on a flat wall seen from where it was taken at about
  0.45 and 0.25 of its size; PSNR of the CLI's frame against the photo area-averaged to the
  output size (every photo pixel counted once: the ideal frame).
* Speed: HD frames of the speed benchmark's orbit scene (P3's preview mesh and full quality),
  both configurations built once and timed interleaved in one process (24 frames each,
  alternating), so the machine's drift hits both alike.

Run: python benchmarks/texture_level.py   (table + benchmarks/results/texture_level.json)
Skips when the photo is absent.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import PHOTO_12MP, PREVIEW_SPACING, _inputs, _options
from stillcam_run import save_results


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def quality() -> list[dict]:
    import cv2

    import stillcam.scene.plan as scene_plan
    from stillcam import RenderOptions, ShotSettings, get_renderer, load_image
    from stillcam.camera import Camera, fit_output_camera
    from stillcam.depth import DepthMap
    from stillcam.output.frames import display_frame

    picture = load_image(PHOTO_12MP)
    depth = DepthMap(np.full((picture.height, picture.width), 5.0, np.float32), "flat wall", "-")
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    rows = []
    for width in (1920, 1064):
        height = round(width * picture.height / picture.width)
        camera = fit_output_camera(source, width, height)
        options = RenderOptions(shot=ShotSettings(size=f"{width}x{height}"))
        ideal = cv2.resize(picture.pixels, (camera.width, camera.height), interpolation=cv2.INTER_AREA)
        row = {"output": f"{width}x{height}", "scale": width / picture.width}
        for label, limit in (("with", 4), ("without", 1)):
            scene_plan.MAX_TEXTURE_REDUCTION = limit
            scene = scene_plan.scene_for(picture, depth, source, [camera], options.scene)
            frame = (
                display_frame(
                    get_renderer(options.render), scene, camera, options.output, fill=options.scene.fills
                )
                / 255.0
            )
            row[f"psnr_{label}_db"] = _psnr(frame, ideal)
        scene_plan.MAX_TEXTURE_REDUCTION = 4
        rows.append(row)
    return rows


def speed() -> list[dict]:
    import stillcam.pipeline as pipeline
    import stillcam.scene.plan as scene_plan
    from stillcam import get_renderer
    from stillcam.output.frames import display_frame

    picture, depth = _inputs(PHOTO_12MP)
    rows = []
    for spacing in (PREVIEW_SPACING, None):
        built = {}
        for label, limit in (("with", 4), ("without", 1)):
            scene_plan.MAX_TEXTURE_REDUCTION = limit
            options = _options("HD", 4.0, spacing)
            scene, path, _ = pipeline.plan_shot(picture, depth, options)
            renderer = get_renderer(options.render)
            display_frame(
                renderer, scene, path.cameras[0], options.output, fill=options.scene.fills
            )  # warm up
            built[label] = (scene, path, options, renderer)
        scene_plan.MAX_TEXTURE_REDUCTION = 4
        times: dict[str, list[float]] = {"with": [], "without": []}
        for index in range(0, 96, 4):
            for label, (scene, path, options, renderer) in built.items():
                start = time.perf_counter()
                display_frame(renderer, scene, path.cameras[index], options.output, fill=options.scene.fills)
                times[label].append(time.perf_counter() - start)
        row = {"mesh": f"spacing {spacing or 2.5:g}"}
        for label in built:
            row[f"triangles_{label}"] = len(built[label][0].triangles)
            row[f"frame_ms_{label}"] = 1000 * statistics.median(times[label])
        rows.append(row)
    return rows


def main() -> int:
    if not PHOTO_12MP.is_file():
        print("skipped: ../shared/data/photos/nasa-53884.jpg is absent")
        return 0
    results = {"quality": quality(), "speed": speed()}
    print(f"{'output':12} {'scale':>6} {'PSNR with':>10} {'without':>8}")
    for r in results["quality"]:
        print(f"{r['output']:12} {r['scale']:6.2f} {r['psnr_with_db']:10.2f} {r['psnr_without_db']:8.2f}")
    print(f"\n{'HD mesh':12} {'ms with':>8} {'without':>8} {'tris with':>10} {'without':>10}")
    for r in results["speed"]:
        print(
            f"{r['mesh']:12} {r['frame_ms_with']:8.1f} {r['frame_ms_without']:8.1f} "
            f"{r['triangles_with']:10,} {r['triangles_without']:10,}"
        )
    save_results("texture_level", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
