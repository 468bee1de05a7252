"""Generative fill cost on this machine (issue #14): CPU and wall time of the MI-GAN fill on the
ring of a 4K (UHD) photo, through stillcam's own loading, tiling and inference code, with a
random-weight ONNX graph of MI-GAN's real architecture (the cost does not depend on the weights).

The graph is MI-GAN-512-Places2's generator as `lib/model_zoo/migan_inference.py` of
Picsart-AI-Research/MI-GAN defines it (channels min(32768 / resolution, 512): 64 at 512 px,
128, 256, then 512 down to 4 px; depthwise-separable 3x3 convolutions, [1, 3, 3, 1] down- and
up-sampling filters, noise constants, lrelu x sqrt 2 clamped at 256), wrapped in the uint8
pre- and post-processing of the published pipeline export (`scripts/create_onnx_pipeline.py`:
[mask - 0.5, image x mask] in, the output composited over the known pixels through the dilated,
blurred mask), with the export's input and output names, dtypes and shapes. Left out: the
pipeline's crop around the mask and its resize to 512 x 512, which are the identity on the
512 x 512 windows stillcam feeds it.

Run: python benchmarks/fill_models.py [--sizes 1024,2048,full] [--ring 0.125]
Writes benchmarks/results/fill_models.json.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stillcam.io.onnx import INTRA_OP_THREADS
from stillcam_run import save_results

UHD = (3840, 2160)


class _Graph:
    """An ONNX graph under construction: nodes, initialisers and a parameter count."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: list = []
        self.names = 0
        self.parameters = 0
        taps = np.array([1.0, 3.0, 3.0, 1.0])
        self.blur = np.outer(taps, taps) / np.outer(taps, taps).sum()  # MI-GAN's setup_filter

    def name(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}_{self.names}"

    def const(self, array: np.ndarray, parameter: bool = False) -> str:
        from onnx import numpy_helper

        key = self.name("c")
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), key))
        self.parameters += array.size if parameter else 0
        return key

    def op(self, kind: str, inputs: list[str], **attrs) -> str:
        from onnx import helper

        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def scalar(self, value: float) -> str:
        return self.const(np.array(value, np.float32))

    def conv(
        self, x: str, cin: int, cout: int, k: int, *, groups: int = 1, bias: bool = True, **attrs
    ) -> str:
        w = self.rng.standard_normal((cout, cin // groups, k, k)) / np.sqrt(cin // groups * k * k)
        inputs = [x, self.const(w.astype(np.float32), True)]
        if bias:
            inputs.append(self.const(np.zeros(cout, np.float32), True))
        return self.op("Conv", inputs, group=groups, kernel_shape=[k, k], **attrs)

    def act(self, x: str) -> str:  # lrelu_agc(alpha=0.2, gain=sqrt 2, clamp=256)
        y = self.op("Mul", [self.op("LeakyRelu", [x], alpha=0.2), self.scalar(np.sqrt(2.0))])
        return self.op("Clip", [y, self.scalar(-256.0), self.scalar(256.0)])

    def down(self, x: str, c: int) -> str:  # Downsample2d: depthwise [1, 3, 3, 1], stride 2
        w = np.repeat(self.blur[None, None], c, axis=0).astype(np.float32)
        attrs = {"group": c, "kernel_shape": [4, 4], "strides": [2, 2], "pads": [1, 1, 1, 1]}
        return self.op("Conv", [x, self.const(w)], **attrs)

    def up(self, x: str, c: int, res: int) -> str:  # Upsample2d: nearest x2, zero-stuffed, filtered
        y = self.op("Resize", [x, "", self.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
        stuff = np.tile(np.array([[1.0, 0.0], [0.0, 0.0]], np.float32), (res // 2, res // 2))[None, None]
        y = self.op("Mul", [y, self.const(stuff)])
        y = self.op("Pad", [y, self.const(np.array([0, 0, 2, 2, 0, 0, 1, 1], np.int64))])
        w = np.repeat((self.blur * 4.0)[None, None], c, axis=0).astype(np.float32)
        return self.op("Conv", [y, self.const(w)], group=c, kernel_shape=[4, 4])

    def separable(
        self, x: str, cin: int, cout: int, *, down: bool = False, up: int = 0, noise: int = 0
    ) -> str:
        """MI-GAN's SeparableConv2d: depthwise 3x3, act, [down], pointwise 1x1, [up], [noise], act."""
        y = self.act(self.conv(x, cin, cin, 3, groups=cin, pads=[1, 1, 1, 1]))
        if down:
            y = self.down(y, cin)
        y = self.conv(y, cin, cout, 1, bias=False)
        if up:
            y = self.up(y, cout, up)
        if noise:
            y = self.op(
                "Add", [y, self.const((self.rng.standard_normal((noise, noise)) * 0.01).astype(np.float32))]
            )
        return self.act(y)


def _channels(res: int) -> int:
    return min(32768 // res, 512)  # MI-GAN: ch_base 32768, ch_max 512


def _generator(g: _Graph, x_in: str, resolution: int) -> str:
    """MI-GAN's Generator (encoder, then synthesis with skip features) on the 4-channel input."""
    levels = [2**i for i in range(int(np.log2(resolution)), 1, -1)]  # 512 ... 4
    feats: dict[int, str] = {}
    x = g.act(g.conv(x_in, 4, _channels(levels[0]), 1))  # fromrgb
    for res, nxt in itertools.pairwise(levels):
        feats[res] = g.separable(x, _channels(res), _channels(res))
        x = g.separable(feats[res], _channels(res), _channels(nxt), down=True)
    feats[4] = g.separable(x, 512, 512)
    x = g.separable(feats[4], 512, 512)
    x = g.separable(g.op("Add", [g.separable(x, 512, 512), feats[4]]), 512, 512)  # first block, 4 px
    img = g.conv(x, 512, 3, 1)
    for low, res in itertools.pairwise(levels[::-1]):
        y = g.separable(x, _channels(low), _channels(res), up=res, noise=res)
        x = g.separable(g.op("Add", [y, feats[res]]), _channels(res), _channels(res), noise=res)
        img = g.op("Add", [g.up(img, 3, res), g.conv(x, _channels(res), 3, 1)])
    return img


def migan_graph(path: Path, resolution: int = 512, seed: int = 0) -> int:
    """Save MI-GAN's pipeline graph with random weights at ``path``; returns the parameter count."""
    import onnx
    from onnx import TensorProto, helper

    g = _Graph(seed)
    # Pre-processing (the pipeline's, for a 512 x 512 input): [mask - 0.5, image x mask].
    image = g.op("Cast", ["image"], to=TensorProto.FLOAT)
    mask = g.op("Div", [g.op("Cast", ["mask"], to=TensorProto.FLOAT), g.scalar(255.0)])
    scaled = g.op("Sub", [g.op("Mul", [image, g.scalar(2.0 / 255.0)]), g.scalar(1.0)])
    x_in = g.op("Concat", [g.op("Sub", [mask, g.scalar(0.5)]), g.op("Mul", [scaled, mask])], axis=1)
    img = _generator(g, x_in, resolution)
    # Post-processing: to 0..255, composited over the known pixels through the dilated,
    # blurred mask (max-pool 3 x 3, Gaussian 5 x 5 with sigma 1).
    out = g.op("Mul", [g.op("Add", [g.op("Mul", [img, g.scalar(0.5)]), g.scalar(0.5)]), g.scalar(255.0)])
    out = g.op("Clip", [out, g.scalar(0.0), g.scalar(255.0)])
    soft = g.op("MaxPool", [mask], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    gauss = np.exp(-((np.arange(5) - 2.0) ** 2) / 2.0)
    gauss = np.outer(gauss, gauss) / np.outer(gauss, gauss).sum()
    soft = g.op("Pad", [soft, g.const(np.array([0, 0, 2, 2, 0, 0, 2, 2], np.int64))], mode="reflect")
    soft = g.op("Conv", [soft, g.const(gauss[None, None].astype(np.float32))], kernel_shape=[5, 5])
    composed = g.op(
        "Add", [g.op("Mul", [image, soft]), g.op("Mul", [out, g.op("Sub", [g.scalar(1.0), soft])])]
    )
    composed = g.op("Clip", [composed, g.scalar(0.0), g.scalar(255.0)])
    g.nodes.append(helper.make_node("Cast", [composed], ["result"], to=TensorProto.UINT8))

    def tensor(label: str, channels: int):
        return helper.make_tensor_value_info(label, TensorProto.UINT8, ["batch", channels, "height", "width"])

    graph = helper.make_graph(
        g.nodes, "migan_pipeline", [tensor("image", 3), tensor("mask", 1)], [tensor("result", 3)], g.inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return g.parameters


def ring_photo(seed: int = 1) -> np.ndarray:
    """A UHD photo-like float32 image: gradients, a stripe pattern and noise."""
    width, height = UHD
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    photo = np.stack([xs / width, ys / height, 0.5 + 0.2 * np.sin(xs / 37.0)], axis=-1)
    return np.clip(photo + rng.normal(0, 0.02, photo.shape), 0, 1).astype(np.float32)


def measure(photo: np.ndarray, pad: int, working: int | None) -> dict:
    """One ``outpaint('migan', ...)`` of ``photo``'s ring (``pad`` px each side) at working size
    ``working`` (None: full resolution): windows run, wall and CPU seconds; then the same call
    again (the cache)."""
    from stillcam.scene import generative
    from stillcam.scene.inpaint import outpaint

    generative.ModelFill.working_size = working or 10**9
    run_window, windows = generative._run_window, [0]

    def counted(*args):
        windows[0] += 1
        return run_window(*args)

    generative._run_window = counted
    try:
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        outpaint("migan", photo, pad, pad, pad, pad)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        outpaint("migan", photo, pad, pad, pad, pad)
        cached = time.perf_counter() - start
    finally:
        generative._run_window = run_window
    full = (photo.shape[1] + 2 * pad, photo.shape[0] + 2 * pad)
    scale = min(1.0, (working or 10**9) / max(full))
    return {
        "working_size": str(working or "full"),
        "fill_at": f"{round(full[0] * scale)}x{round(full[1] * scale)}",
        "windows": windows[0],
        "wall_s": round(wall, 2),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "s_per_window": round(wall / max(windows[0], 1), 3),
        "cached_s": round(cached, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,2048,full", help="working sizes (long side) or 'full'")
    parser.add_argument("--ring", type=float, default=0.125, help="ring width / long side, each side")
    args = parser.parse_args()

    from stillcam.scene import generative

    os.environ["HF_HUB_OFFLINE"] = "1"
    photo = ring_photo()
    pad = round(args.ring * UHD[0])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "migan"
        folder.mkdir()
        params = migan_graph(folder / "migan_pipeline_v2.onnx")
        size_mb = (folder / "migan_pipeline_v2.onnx").stat().st_size / 1e6
        os.environ["STILLCAM_CACHE_DIR"] = str(Path(tmp) / "cache")
        canvas = f"{UHD[0] + 2 * pad}x{UHD[1] + 2 * pad}"
        print(f"graph: {params / 1e6:.2f} M parameters, {size_mb:.1f} MB; UHD photo, ring canvas {canvas}")
        with generative.fill_models_from(folder):
            for size in args.sizes.split(","):
                rows.append(measure(photo, pad, None if size == "full" else int(size)))
                print(rows[-1], flush=True)
    keys = list(rows[0])
    print("  ".join(f"{k:>12}" for k in keys))
    for row in rows:
        print("  ".join(f"{row[k]!s:>12}" for k in keys))
    data = {
        "photo": f"{UHD[0]}x{UHD[1]} (synthetic), ring {pad} px on each side, canvas {canvas}",
        "graph_parameters": params,
        "graph_mb": round(size_mb, 1),
        "intra_op_threads": INTRA_OP_THREADS,
        "default_working_size": generative.FILL_WORKING_SIZE,
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    print(f"wrote {save_results('fill_models', data)}")


if __name__ == "__main__":
    main()
