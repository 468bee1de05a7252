"""Helpers shared by tests (importable: tests/ is on pythonpath)."""

from pathlib import Path

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two arrays in [0, 1]."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def display_p3_icc() -> bytes:
    """A minimal ICC v2 display profile for Display P3 (D50-adapted primaries, sRGB curve),
    written here byte by byte so the colour tests need no profile file."""
    import struct

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    def text_description(text: str) -> bytes:
        ascii_text = text.encode("ascii") + b"\0"
        body = b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text
        return body + b"\0" * 8 + b"\0" * 3 + b"\0" * 67  # no Unicode, no ScriptCode text

    # sRGB / Display P3 transfer curve as a parametric curve (type 3).
    curve = b"para" + b"\0" * 4 + struct.pack(">HH", 3, 0)
    curve += b"".join(s15(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    tags = [
        (b"desc", text_description("Display P3 (test)")),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)),
        (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\0" * 4 + b"public domain\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        while (offset + len(data)) % 4:
            data += b"\0"
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
    header += struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24 + b"\0" * 4
    header += s15(0.9642) + s15(1.0) + s15(0.8249) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28
    assert len(header) == 128
    return header + table + data


def tiny_shot_inputs(folder: Path, seed: int = 0, *, numbered: bool = False) -> tuple[Path, Path]:
    """A 64x36 photo (smooth colours, a nearer square placed by ``seed``) and its depth in
    metres, written to ``folder`` as ``photo.png`` and ``depth.npy`` (``numbered``: with the
    seed in the names, so several fit in one folder)."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:36, 0:64].astype(np.float32)
    rng = np.random.default_rng(seed)
    rgb = np.stack([x / 63, y / 35, 0.5 + 0.4 * np.sin(x / 7 + seed)], axis=-1)
    z = 4.0 + x / 32
    left, top = int(rng.integers(10, 40)), int(rng.integers(5, 20))
    rgb[top : top + 12, left : left + 14] = rng.random(3)
    z[top : top + 12, left : left + 14] = 2.0
    tag = str(seed) if numbered else ""
    photo, depth = folder / f"photo{tag}.png", folder / f"depth{tag}.npy"
    cv2.imwrite(str(photo), np.rint(rgb[..., ::-1] * 255).astype(np.uint8))
    np.save(depth, z.astype(np.float32))
    return photo, depth


def save_depth_anything(folder: Path) -> Path:
    """A tiny random-weight Depth Anything V2 (seeded) saved as a local model folder, with the
    real repositories' image-processor settings: for the loading code's tests (needs torch and
    transformers; the caller skips without them)."""
    import torch
    import transformers

    from stillcam.depth.models import DEPTH_ANYTHING_PROCESSOR

    backbone = transformers.Dinov2Config(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        patch_size=14,
        image_size=518,
        out_features=["stage1", "stage2", "stage3", "stage4"],
        reshape_hidden_states=False,
    )
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone,
        fusion_hidden_size=16,
        neck_hidden_sizes=[8, 16, 32, 32],
        head_hidden_size=8,
        reassemble_hidden_size=32,
    )
    torch.manual_seed(0)
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    transformers.DPTImageProcessorPil(**DEPTH_ANYTHING_PROCESSOR).save_pretrained(folder)
    return folder
