"""h264 repeatability inside one process (docs/benchmarks.md, "Same bytes under load"): render
the same shot to ``.mp4`` N times in a row in this process, per encoder thread count, hash the
frames handed to the encoder and the files, and count how many files differ from the first.

    python benchmarks/repeat_encode.py --runs 12 --threads 4 --threads 1 --load 3

Middlebury teddy (view 2, its ground-truth depth) at 320x180 when ../shared/data is there, else
the bundled example. ``--load K`` keeps K busy-loop processes running meanwhile (the gap shows on
a busy machine). Prints a table, writes results/repeat_encode.json.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from middlebury import fill_unknown
from stillcam_run import save_results

TEDDY = Path(__file__).resolve().parents[2] / "shared" / "data" / "middlebury2003" / "teddy"


def _busy() -> None:  # pragma: no cover - a load generator
    while True:
        pass


def _inputs(folder: Path) -> tuple[Path, Path, str]:
    photo, depth = folder / "photo.png", folder / "depth.npy"
    if (TEDDY / "im2.png").exists():
        raw = cv2.imread(str(TEDDY / "disp2.png"), cv2.IMREAD_GRAYSCALE).astype(np.float32)
        disparity = fill_unknown(raw / 4)  # pixels
        np.save(depth, (450 * 0.16 / disparity).astype(np.float32))
        photo.write_bytes((TEDDY / "im2.png").read_bytes())
        return photo, depth, "middlebury teddy im2"
    from stillcam.example.procedural import example_inputs

    picture, depth_map = example_inputs(320, 180)
    cv2.imwrite(str(photo), np.rint(picture.pixels[..., ::-1] * 255).astype(np.uint8))
    np.save(depth, depth_map.z)
    return photo, depth, "bundled example"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--threads", type=int, action="append", help="encoder threads (repeatable)")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes meanwhile")
    args = parser.parse_args()
    threads = args.threads or [4, 1]

    from stillcam import pipeline
    from stillcam.camera.plan import ShotSettings
    from stillcam.options import RenderOptions
    from stillcam.output import writers

    handed: list[str] = []
    write = writers.VideoSink.write

    def spy(sink, image):
        handed.append(hashlib.sha256(image.tobytes()).hexdigest())
        write(sink, image)

    writers.VideoSink.write = spy
    busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.load)]
    for process in busy:
        process.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            photo, depth, source = _inputs(Path(tmp))
            shot = ShotSettings(size="320x180", duration=0.25, fps="24", move="pan(degrees=10)")
            for count in threads:
                options = RenderOptions(shot=shot, output=writers.OutputSettings(encoder_threads=count))
                files, frames = [], []
                for run in range(args.runs):
                    handed.clear()
                    out = Path(tmp) / f"t{count}_{run}.mp4"
                    pipeline.render(photo, depth, out, options)
                    files.append(hashlib.sha256(out.read_bytes()).hexdigest())
                    frames.append(hashlib.sha256("".join(handed).encode()).hexdigest())
                rows.append(
                    {
                        "encoder_threads": count,
                        "runs": args.runs,
                        "files_differing_from_the_first": sum(f != files[0] for f in files),
                        "frames_differing_from_the_first": sum(f != frames[0] for f in frames),
                    }
                )
    finally:
        for process in busy:
            process.terminate()
    print(f"{source}, 320x180, 6 frames, pan 10°, {args.runs} renders per row, load {args.load}")
    print("| encoder threads | files differing from the first | frames handed differing |")
    print("|---|---|---|")
    for row in rows:
        print(
            f"| {row['encoder_threads']} | {row['files_differing_from_the_first']} of {row['runs']} "
            f"| {row['frames_differing_from_the_first']} of {row['runs']} |"
        )
    save_results("repeat_encode", {"source": source, "load": args.load, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
