"""Delivery codecs at UHD: encode cost and data rate of each ``--codec`` as stillcam writes it,
plus FFmpeg's other ProRes encoder (prores_aw) as the comparator for the choice of prores_ks.

Input: ``nasa-53884.jpg`` from ../shared/data/photos resized to 3840x2160, 12 frames (the
photo shifted by one pixel per frame, so inter-frame codecs see motion), 24 frames/s.
Data rates are compared with Apple's published targets for ProRes 422 HQ / 4444 at
3840x2160, 24p (about 707 and 1061 Mb/s).

Run: python benchmarks/delivery_codecs.py
Prints a table, writes benchmarks/results/delivery_codecs.json; skips without the photo.
"""

from __future__ import annotations

import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stillcam_run import save_results

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "nasa-53884.jpg"
FRAMES = 12
APPLE_TARGET_MBPS = {"prores-422hq": 707, "prores-4444": 1061}


def _frames() -> list[np.ndarray]:
    from PIL import Image

    with Image.open(PHOTO) as image:
        base = np.asarray(image.convert("RGB").resize((3840 + FRAMES, 2160), Image.Resampling.LANCZOS))
    return [np.ascontiguousarray(base[:, i : i + 3840]) for i in range(FRAMES)]


def stillcam_codec(name: str, frames: list[np.ndarray], folder: Path) -> dict:
    from stillcam.output import OutputSettings, open_sink, parse_output
    from stillcam.output.codecs import VIDEO_CODECS

    codec = VIDEO_CODECS[name]
    path = folder / f"{name}{codec.suffixes[0]}"
    sink = open_sink(
        parse_output(path), 3840, 2160, Fraction(24), 1001, FRAMES, OutputSettings(codec=name), overwrite=True
    )
    alpha = np.full((2160, 3840, 1), 255, np.uint8)
    start, cpu = time.perf_counter(), time.process_time()
    for image in frames:
        sink.write(np.concatenate([image, alpha], axis=-1) if codec.alpha else image)
    sink.commit()
    return _row(name, codec.encoder, path, time.perf_counter() - start, time.process_time() - cpu)


def prores_aw(frames: list[np.ndarray], folder: Path) -> dict:
    import av

    path = folder / "prores_aw.mov"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("prores_aw", rate=24)
        stream.width, stream.height, stream.pix_fmt = 3840, 2160, "yuv422p10le"
        stream.codec_context.options = {"profile": "3", "vendor": "apl0"}
        stream.codec_context.thread_count = 4
        start, cpu = time.perf_counter(), time.process_time()
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv422p10le")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return _row(
        "prores-422hq via prores_aw",
        "prores_aw",
        path,
        time.perf_counter() - start,
        time.process_time() - cpu,
    )


def _row(name: str, encoder: str, path: Path, wall: float, cpu: float) -> dict:
    mbps = path.stat().st_size * 8 * 24 / FRAMES / 1e6
    return {
        "codec": name,
        "encoder": encoder,
        "cpu_s_per_frame": cpu / FRAMES,
        "wall_s_per_frame": wall / FRAMES,
        "mbps_at_24p": mbps,
        "apple_target_mbps": APPLE_TARGET_MBPS.get(name.split()[0]),
    }


def main() -> int:
    if not PHOTO.is_file():
        print("skipped: ../shared/data/photos/nasa-53884.jpg is absent")
        return 0
    from stillcam.output.codecs import CODECS

    frames = _frames()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [stillcam_codec(name, frames, Path(tmp)) for name in CODECS]
        rows.append(prores_aw(frames, Path(tmp)))
    header = f"{'codec':28} {'encoder':10} {'CPU-s/frame':>11} {'wall s/frame':>12} {'Mb/s @24p':>10}"
    print(header + f" {'Apple target':>12}")
    for r in rows:
        target = f"{r['apple_target_mbps']}" if r["apple_target_mbps"] else "-"
        print(
            f"{r['codec']:28} {r['encoder']:10} {r['cpu_s_per_frame']:11.2f} {r['wall_s_per_frame']:12.2f} "
            f"{r['mbps_at_24p']:10.0f} {target:>12}"
        )
    save_results("delivery_codecs", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
