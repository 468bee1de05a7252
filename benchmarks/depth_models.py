"""Depth-model cost on this machine (issue #5): CPU time, wall time and peak RSS per model at
its default input size on a 12 MP photo, with random weights of the real architecture (the
cost does not depend on the weights), plus the edge-exact upsampling at the photo's size and
at UHD against bilinear.

Each model runs in its own process (clean peak RSS), through stillcam's own loading and
inference code (``from_pretrained`` on a saved folder, the repository's processor settings).

Run: python benchmarks/depth_models.py [--models depth-anything-v2-small,...] [--threads 2]
Writes benchmarks/results/depth_models.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "nasa-53884.jpg"  # 4256x2832, 12.1 MP
ALL = [
    "depth-anything-v2-small",
    "depth-anything-v2-base",
    "depth-anything-v2-large",
    "zoedepth-nk",
    "depth-pro",
]
DA = {  # hidden, layers, heads, fusion, neck, hooked layers (Depth Anything V2 S/B/L)
    "depth-anything-v2-small": (384, 12, 6, 64, [48, 96, 192, 384], [3, 6, 9, 12]),
    "depth-anything-v2-base": (768, 12, 12, 128, [96, 192, 384, 768], [3, 6, 9, 12]),
    "depth-anything-v2-large": (1024, 24, 16, 256, [256, 512, 1024, 1024], [5, 12, 18, 24]),
}


def save_real_size(name: str, folder: Path) -> int:
    """Save a random-weight model of ``name``'s real architecture; returns its parameter count."""
    import torch
    import transformers

    from stillcam.depth.models import DEPTH_ANYTHING_PROCESSOR

    torch.manual_seed(0)
    if name in DA:
        hidden, layers, heads, fusion, neck, hooks = DA[name]
        backbone = transformers.Dinov2Config(
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=4 * hidden,
            patch_size=14,
            image_size=518,
            out_features=[f"stage{i}" for i in hooks],
            reshape_hidden_states=False,
        )
        config = transformers.DepthAnythingConfig(
            backbone_config=backbone,
            fusion_hidden_size=fusion,
            neck_hidden_sizes=neck,
            reassemble_hidden_size=hidden,
        )
        model = transformers.DepthAnythingForDepthEstimation(config)
        transformers.DPTImageProcessorPil(**DEPTH_ANYTHING_PROCESSOR).save_pretrained(folder)
    elif name == "zoedepth-nk":
        model = transformers.ZoeDepthForDepthEstimation(transformers.ZoeDepthConfig())
        transformers.ZoeDepthImageProcessorPil().save_pretrained(folder)
    else:
        model = transformers.DepthProForDepthEstimation(transformers.DepthProConfig(use_fov_model=True))
        (folder / "preprocessor_config.json").write_text(
            json.dumps({"size": {"height": 1536, "width": 1536}})
        )
    model.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def child(name: str, folder: str) -> None:
    """Estimate the photo's depth once with ``name`` from ``folder``; print one JSON line."""
    import numpy as np

    from stillcam.depth.estimate import _run_depth_pro, _run_dpt
    from stillcam.io.image import load_image

    picture = load_image(PHOTO)
    rgb = np.rint(picture.pixels * 255.0).astype(np.uint8)
    cpu, wall = time.process_time(), time.perf_counter()
    raw = _run_depth_pro(Path(folder), rgb)[0] if name == "depth-pro" else _run_dpt(Path(folder), rgb)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "cpu_s": cpu,
                "wall_s": wall,
                "rss_mb": rss,
                "output": list(raw.shape),
                "photo": f"{picture.width}x{picture.height}",
            }
        )
    )


def upsampling() -> list[dict]:
    import cv2
    import numpy as np

    from stillcam.depth.upsample import bilinear_upsample, snap_upsample
    from stillcam.io.image import load_image

    picture = load_image(PHOTO)
    rows = []
    for label, (w, h) in (("photo", (picture.width, picture.height)), ("UHD", (3840, 2160))):
        guide = cv2.resize(picture.pixels, (w, h), interpolation=cv2.INTER_AREA)
        # a model-like map: a smooth ramp with three sharp objects
        inverse = np.tile(np.linspace(0.1, 0.5, 294, dtype=np.float32)[:, None], (1, 518))
        inverse[60:200, 80:200], inverse[150:260, 300:420], inverse[20:90, 400:500] = 1.0, 0.8, 0.6
        runs = {
            "snap": lambda inverse=inverse, guide=guide: snap_upsample(inverse, guide),
            "bilinear": lambda inverse=inverse, w=w, h=h: bilinear_upsample(inverse, w, h),
        }
        for method, run in runs.items():
            times = []
            for _ in range(3):
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
            rows.append({"size": f"{label} {w}x{h}", "method": method, "median_s": sorted(times)[1]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(ALL))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    if not PHOTO.is_file():
        print(f"skipped: {PHOTO.name} not found (shared data absent)")
        return
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1"}
    rows = []
    print(f"{'model':26} {'params':>9} {'cpu s':>7} {'wall s':>7} {'RSS MB':>7}  output")
    for name in args.models.split(","):
        with tempfile.TemporaryDirectory() as folder:
            params = save_real_size(name, Path(folder))
            result = subprocess.run(
                [sys.executable, __file__, "--child", name, folder], capture_output=True, text=True, env=env
            )
            if result.returncode != 0:
                print(f"{name}: failed: {result.stderr.strip().splitlines()[-1]}")
                continue
            row = {
                "model": name,
                "params_m": round(params / 1e6, 1),
                **json.loads(result.stdout.splitlines()[-1]),
            }
            rows.append(row)
            print(
                f"{name:26} {row['params_m']:8.1f}M {row['cpu_s']:7.1f} {row['wall_s']:7.1f} "
                f"{row['rss_mb']:7.0f}  {row['output']} from {row['photo']}"
            )
    up = upsampling()
    for row in up:
        print(f"upsampling {row['size']:22} {row['method']:9} {row['median_s'] * 1000:7.0f} ms")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "depth_models.json").write_text(
        json.dumps({"threads": args.threads, "models": rows, "upsampling": up}, indent=1) + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
