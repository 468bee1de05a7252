"""Where the cpu renderer's frame time goes (issue #20): cost probes, timed interleaved.

Each probe is render/cpu.py with one piece of work taken out (so its images are wrong: it
only measures what that piece costs), loaded beside the real module in this process and
timed camera by camera, in turns, on speed.py's P1 scene (12 MP photo, synthetic layered
depth, the default mesh, ``orbit(degrees=8)``). Ratios to the real renderer, per camera, then
the median: they hold on a shared, noisy machine where milliseconds do not.

Probes: ``no-division`` (no 1/z per covered pixel), ``no-store`` (no pixel passes the depth
test: nothing is written), ``setup-only`` (triangle setup, no pixel loop), ``clear-only``
(buffers cleared, triangles projected and binned, none drawn).

Run: python benchmarks/raster_probes.py [--size UHD] [--spacing 8] [--frames 12]
Writes benchmarks/results/raster_probes.json. Skips cleanly when the photo is absent.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import PHOTO_12MP, _inputs, _options
from stillcam_run import save_results

CPU_SOURCE = Path(__file__).resolve().parents[1] / "src" / "stillcam" / "render" / "cpu.py"

#: probe name: (text of cpu.py, its replacement)
PROBES = {
    "no-division": ("                z = 1.0 / w\n", "                z = 1.0\n"),
    "no-store": (
        "            if inside and w > (back[py, px, 0] if keep_back else front[py, px, 0]):",
        "            if inside and w > 1e30:",
    ),
    "setup-only": (
        "    u0, u1, u2 = screen[i0, 4], screen[i1, 4], screen[i2, 4]\n",
        "    if cull >= 0:\n        return\n    u0, u1, u2 = screen[i0, 4], screen[i1, 4], screen[i2, 4]\n",
    ),
    "clear-only": (
        "            _draw(screen, alphas, triangles, t,",
        "            if t < 0:  # never: no triangle is drawn\n"
        "                _draw(screen, alphas, triangles, t,",
    ),
}


def _load(name: str, path: Path):
    """``path`` as module ``stillcam.render.<name>`` (so its relative imports resolve)."""
    spec = importlib.util.spec_from_file_location(f"stillcam.render.{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="UHD")
    parser.add_argument("--spacing", type=float, default=None, help="vertex spacing (P3's preview: 8)")
    parser.add_argument("--frames", type=int, default=12)
    args = parser.parse_args()
    if not PHOTO_12MP.exists():
        print(f"skipped: {PHOTO_12MP.name} is absent")
        return 0
    from stillcam.pipeline import plan_shot
    from stillcam.render import cpu

    source = CPU_SOURCE.read_text()
    modules = {"as committed": cpu}
    with tempfile.TemporaryDirectory() as folder:
        for i, (name, (old, new)) in enumerate(PROBES.items()):
            if source.count(old) != 1:
                raise SystemExit(f"probe {name}: its text is not in cpu.py once; update PROBES")
            path = Path(folder) / f"cpu_probe{i}.py"
            path.write_text(source.replace(old, new))
            modules[name] = _load(f"_cpu_probe{i}", path)
        picture, depth = _inputs(PHOTO_12MP)
        options = _options(args.size, 4.0, args.spacing)
        scene, path, _ = plan_shot(picture, depth, options)
        cameras = path.cameras[:: max(1, len(path) // args.frames)][: args.frames]
        matte, scale = np.zeros(3, np.float32), np.float32(255)
        renderers = {name: module.CpuRenderer() for name, module in modules.items()}
        out = np.empty((cameras[0].height, cameras[0].width, 3), np.uint8)
        for renderer in renderers.values():  # compile / warm up
            renderer.render_display(scene, cameras[0], True, matte, scale, out)
        raster = {name: [] for name in modules}
        frame = {name: [] for name in modules}
        for camera in cameras:
            for name, renderer in renderers.items():
                t0 = time.perf_counter()
                renderer._rasterized(scene, camera)
                t1 = time.perf_counter()
                renderer.render_display(scene, camera, True, matte, scale, out)
                raster[name].append(1000 * (t1 - t0))
                frame[name].append(1000 * (time.perf_counter() - t1))
    base = "as committed"
    results = {"size": args.size, "spacing": args.spacing, "triangles": len(scene.triangles), "rows": {}}
    print(f"{args.size}, {len(scene.triangles):,} triangles, {len(cameras)} cameras")
    print(f"{'variant':14} {'raster ms':>10} {'x':>6} {'frame ms':>10} {'x':>6}")
    for name in modules:
        row = {
            "raster_ms_median": statistics.median(raster[name]),
            "frame_ms_median": statistics.median(frame[name]),
            "raster_ratio": statistics.median(a / b for a, b in zip(raster[name], raster[base], strict=True)),
            "frame_ratio": statistics.median(a / b for a, b in zip(frame[name], frame[base], strict=True)),
        }
        results["rows"][name] = row
        print(
            f"{name:14} {row['raster_ms_median']:10.1f} {row['raster_ratio']:6.2f} "
            f"{row['frame_ms_median']:10.1f} {row['frame_ratio']:6.2f}"
        )
    print("wrote", save_results("raster_probes", results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
