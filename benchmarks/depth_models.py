"""Depth-model cost on this machine (issues #5, #17): CPU time, wall time and peak RSS per model
at its default input size on a 12 MP photo, with random weights of the real architecture (the
cost does not depend on the weights), plus the edge-exact upsampling at the photo's size and
at UHD against bilinear.

Each model runs in its own process (clean peak RSS), through stillcam's own loading and
inference code (``from_pretrained`` on a saved folder, the repository's processor settings;
for MoGe-2 an ONNX graph exported here and run by stillcam.depth.moge). The models are run
in turn, ``--rounds`` times (interleaved, so a slow spell of the machine hits all of them);
the table gives medians and each model's ratio to the first one. Loading (from_pretrained,
the ONNX Runtime session) is timed apart from the per-photo run.

MoGe-2 at real size (``moge-2-vits``; ``@N`` runs N tokens instead of stillcam's 3600): a
torch rebuild of MoGe-2's architecture (moge/model/v2.py, modules.py of github.com/microsoft/
MoGe), exported with torch's TorchScript ONNX exporter at the photo's input size: DINOv2
ViT-S/14 (transformers' Dinov2Model), the hooked layers projected and summed, the view-plane
uv appended at five levels, a neck and three heads (points, normal, mask) of widths
384/256/128/64/32 with 2 (neck) or 1 (heads) residual blocks at the middle three levels
(``configs/train/v2.json``; the ViT-S widths at level 0 as reported for moge-2-vits-normal),
a scale MLP on the class token.

Run: python benchmarks/depth_models.py [--models depth-anything-v2-small,moge-2-vits,...]
[--threads 2] [--rounds 3]. Writes benchmarks/results/depth_models.json.
"""

from __future__ import annotations

import argparse
import itertools
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
    "moge-2-vits",
    "moge-2-vits@1200",
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


MOGE = {  # hidden, layers, heads, hooked layers (0-based), level widths (MoGe-2 ViT-S)
    "moge-2-vits": (384, 12, 6, [5, 11], [384, 256, 128, 64, 32]),
}


def _moge_stack(dims: list[int], dim_in: list[int], blocks: list[int], dim_out: int | None):
    """MoGe-2's ConvStack: per level a 1x1 input conv added in, residual blocks, then a 2x
    resampler (transposed conv + conv, bilinear + conv at the last); returns every level."""
    from torch import nn

    def conv(a: int, b: int) -> nn.Conv2d:
        return nn.Conv2d(a, b, 3, padding=1, padding_mode="replicate")

    class Block(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.ReLU(), conv(c, c), nn.ReLU(), conv(c, c))

        def forward(self, x):
            return x + self.body(x)

    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inputs = nn.ModuleList(nn.Conv2d(i, d, 1) for i, d in zip(dim_in, dims, strict=True))
            self.blocks = nn.ModuleList(
                nn.Sequential(*(Block(d) for _ in range(n))) for d, n in zip(dims, blocks, strict=True)
            )
            ups = [
                nn.Sequential(nn.ConvTranspose2d(a, b, 2, stride=2), conv(b, b))
                for a, b in itertools.pairwise(dims[:4])
            ]
            ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), conv(dims[3], dims[4])))
            self.ups = nn.ModuleList(ups)
            self.out = nn.Conv2d(dims[-1], dim_out, 1) if dim_out else nn.Identity()

        def forward(self, features):
            levels, x = [], self.inputs[0](features[0])
            for i in range(5):
                x = x + self.inputs[i](features[i]) if i else x
                x = self.blocks[i](x)
                levels.append(x)
                if i < 4:
                    x = self.ups[i](x)
            levels[-1] = self.out(levels[-1])
            return levels

    return Stack()


def _moge_module(name: str, width: int, height: int, tokens: int):
    """A random-weight MoGe-2 of ``name``'s size for a (width, height) input and ``tokens``."""
    import numpy as np
    import torch
    import transformers
    from torch import nn

    from stillcam.depth.moge import view_plane_uv

    hidden, layers, heads, hooks, dims = MOGE[name]
    rows, cols = round((tokens * height / width) ** 0.5), round((tokens * width / height) ** 0.5)
    backbone = transformers.Dinov2Model(
        transformers.Dinov2Config(
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=4 * hidden,
            patch_size=14,
            image_size=518,
            attn_implementation="eager",
        )
    )
    uv = [
        torch.from_numpy(view_plane_uv(cols * 2**k, rows * 2**k).astype(np.float32)).permute(2, 0, 1)[None]
        for k in range(5)
    ]

    class MoGe2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone
            self.project = nn.ModuleList(nn.Conv2d(hidden, dims[0], 1) for _ in hooks)
            self.neck = _moge_stack(dims, [dims[0] + 2, 2, 2, 2, 2], [0, 2, 2, 2, 0], None)
            self.heads = nn.ModuleList(_moge_stack(dims, dims, [0, 1, 1, 1, 0], n) for n in (3, 3, 1))
            self.scale = nn.Sequential(
                nn.Linear(hidden, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 1)
            )
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

        def forward(self, image, num_tokens):
            x = nn.functional.interpolate(image, (rows * 14, cols * 14), mode="bilinear", align_corners=False)
            out = self.backbone(pixel_values=(x - self.mean) / self.std, output_hidden_states=True)
            states = [self.backbone.layernorm(out.hidden_states[k + 1]) for k in hooks]
            grid = [s[:, 1:].permute(0, 2, 1).reshape(1, hidden, rows, cols) for s in states]
            features = sum(p(g) for p, g in zip(self.project, grid, strict=True))
            levels = self.neck([torch.cat([features, uv[0]], 1), *uv[1:]])
            points, normal, mask = (
                nn.functional.interpolate(
                    h(levels)[-1], (height, width), mode="bilinear", align_corners=False
                )
                for h in self.heads
            )
            points = points.permute(0, 2, 3, 1)
            z = torch.exp(points[..., 2:])
            points = torch.cat([points[..., :2] * z, z], -1)
            normal = nn.functional.normalize(normal.permute(0, 2, 3, 1), dim=-1)
            scale = torch.exp(self.scale(states[-1][:, 0]))[:, 0] + 0 * num_tokens.float()  # uses the input
            return points, normal, torch.sigmoid(mask[:, 0]), scale

    return MoGe2().eval()


def save_moge(name: str, folder: Path) -> int:
    """Export a random-weight real-size MoGe-2 to ``folder``/model.onnx at the photo's input
    size (``name@N``: N tokens); returns its parameter count."""
    import torch

    from stillcam.depth.moge import NUM_TOKENS, input_size
    from stillcam.io.image import load_image

    base, _, tokens = name.partition("@")
    tokens_n = int(tokens or NUM_TOKENS)
    picture = load_image(PHOTO)
    width, height = input_size(picture.width, picture.height, tokens_n)
    torch.manual_seed(0)
    model = _moge_module(base, width, height, tokens_n)
    args = (torch.rand(1, 3, height, width), torch.tensor(tokens_n))
    with torch.no_grad():
        torch.onnx.export(
            model,
            args,
            str(folder / "model.onnx"),
            input_names=["image", "num_tokens"],
            output_names=["points", "normal", "mask", "metric_scale"],
            opset_version=17,
            dynamo=False,
        )
    (folder / "tokens").write_text(str(tokens_n))
    return sum(p.numel() for p in model.parameters())


def save_real_size(name: str, folder: Path) -> int:
    """Save a random-weight model of ``name``'s real architecture; returns its parameter count."""
    import torch
    import transformers

    from stillcam.depth.models import DEPTH_ANYTHING_PROCESSOR

    if name.startswith("moge-2"):
        return save_moge(name, folder)
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

    from stillcam.depth import moge
    from stillcam.depth.estimate import _loaded, _run_depth_pro, _run_dpt
    from stillcam.io.image import load_image

    picture = load_image(PHOTO)
    rgb = np.rint(picture.pixels * 255.0).astype(np.uint8)
    load = time.perf_counter()
    if name.startswith("moge-2"):
        file = moge.onnx_file(Path(folder))
        moge.session(file)
        tokens = int((Path(folder) / "tokens").read_text())
        run = lambda: moge.run_moge(file, rgb, num_tokens=tokens)[0]  # noqa: E731
    else:
        _loaded(folder, processor=name != "depth-pro")
        run = (
            (lambda: _run_depth_pro(Path(folder), rgb)[0])
            if name == "depth-pro"
            else (lambda: _run_dpt(Path(folder), rgb))
        )
    load = time.perf_counter() - load
    cpu, wall = time.process_time(), time.perf_counter()
    raw = run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "load_s": load,
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


def _run_child(name: str, folder: str, env: dict[str, str]) -> dict | None:
    result = subprocess.run(
        [sys.executable, __file__, "--child", name, folder], capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        print(f"{name}: failed: {result.stderr.strip().splitlines()[-1]}")
        return None
    return json.loads(result.stdout.splitlines()[-1])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def measure(names: list[str], rounds: int, env: dict[str, str], root: Path) -> list[dict]:
    """Build every model once, then run them in turn ``rounds`` times; one row per model
    with its runs, medians and ratios to the first model's medians."""
    params, runs = {}, {name: [] for name in names}
    for name in names:
        (root / name).mkdir()
        params[name] = save_real_size(name, root / name)
    for round_ in range(rounds):
        for name in names:
            run = _run_child(name, str(root / name), env)
            if run is not None:
                runs[name].append(run)
                print(
                    f"  round {round_ + 1}: {name:26} cpu {run['cpu_s']:6.1f} s  wall {run['wall_s']:6.1f} s"
                )
    rows = []
    for name in names:
        if not runs[name]:
            continue
        last = runs[name][-1]
        rows.append(
            {
                "model": name,
                "params_m": round(params[name] / 1e6, 1),
                "cpu_s": _median([r["cpu_s"] for r in runs[name]]),
                "wall_s": _median([r["wall_s"] for r in runs[name]]),
                "load_s": _median([r["load_s"] for r in runs[name]]),
                "rss_mb": max(r["rss_mb"] for r in runs[name]),
                "output": last["output"],
                "photo": last["photo"],
                "runs": runs[name],
            }
        )
    for row in rows:  # per round against the first model's same round, then the median
        pairs = list(zip(row["runs"], rows[0]["runs"], strict=False))
        row["cpu_ratio"] = _median([r["cpu_s"] / b["cpu_s"] for r, b in pairs])
        row["wall_ratio"] = _median([r["wall_s"] / b["wall_s"] for r, b in pairs])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(ALL))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    if not PHOTO.is_file():
        print(f"skipped: {PHOTO.name} not found (shared data absent)")
        return
    # OMP_WAIT_POLICY=PASSIVE: torch's OpenMP threads sleep instead of spinning while they wait,
    # as ONNX Runtime's do (allow_spinning 0), so CPU time counts work on a busy machine too.
    threads = {"OMP_NUM_THREADS": str(args.threads), "OMP_WAIT_POLICY": "PASSIVE"}
    env = {**os.environ, **threads, "HF_HUB_OFFLINE": "1"}
    names = args.models.split(",")
    with tempfile.TemporaryDirectory() as folder:
        rows = measure(names, args.rounds, env, Path(folder))
    print(f"\nmedians of {args.rounds} interleaved rounds; CPU-time ratios to {names[0]} (median per round)")
    print(
        f"{'model':26} {'params':>9} {'cpu s':>7} {'wall s':>7} {'ratio':>6} {'load s':>7} {'RSS MB':>7}"
        "  output"
    )
    for row in rows:
        print(
            f"{row['model']:26} {row['params_m']:8.1f}M {row['cpu_s']:7.1f} {row['wall_s']:7.1f} "
            f"{row['cpu_ratio']:6.2f} {row['load_s']:7.1f} {row['rss_mb']:7.0f}  "
            f"{row['output']} from {row['photo']}"
        )
    up = upsampling()
    for row in up:
        print(f"upsampling {row['size']:22} {row['method']:9} {row['median_s'] * 1000:7.0f} ms")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    summary = {"threads": args.threads, "rounds": args.rounds, "models": rows, "upsampling": up}
    (results / "depth_models.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
