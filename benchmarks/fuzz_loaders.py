"""Coverage-guided fuzzing of the photo and depth loaders (issue #15): every input must load
to finite values or raise a typed :class:`~stillcam.errors.StillcamError` of one line.

The first byte of a fuzz input picks the loader and the file's suffix (photo: JPEG, PNG, TIFF,
WebP; depth: PNG, TIFF, EXR, ``.npy``), the rest is the file. A loaded depth map also goes
through :func:`~stillcam.depth.convert.depth_from_raw` for each depth kind. Anything else (an
untyped exception, a message of two lines, a native crash) stops the run with the input.

    python benchmarks/fuzz_loaders.py                  # atheris (libFuzzer), 20000 inputs
    python benchmarks/fuzz_loaders.py --runs 100000 --seconds 1800
    python benchmarks/fuzz_loaders.py --mutate         # no atheris: the seeded mutation loop

atheris is imported only here (``pip install atheris``); without it the script falls back to
a seeded mutation loop over the same seeds and harness (bit flips, truncations, inserted and
deleted runs, "interesting" integers over header fields). The pixel budget is lowered to
1 MP (``STILLCAM_MAX_INPUT_MP``) so that headers the fuzzer inflates stay quick to refuse or
decode; the logic is the one of the 100 MP default. Counts go to
``results/fuzz_loaders.json`` every 500 inputs (libFuzzer ends the process without a last
save), and into docs/reliability.md by hand; crashing inputs to ``results/fuzz-*``.
"""

from __future__ import annotations

import argparse
import collections
import io
import logging
import os
import random
import resource
import shutil
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stillcam_run import RESULTS, save_results

os.environ.setdefault("STILLCAM_MAX_INPUT_MP", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TARGETS: tuple[tuple[str, str], ...] = (
    ("photo", ".jpg"),
    ("photo", ".png"),
    ("photo", ".tif"),
    ("photo", ".webp"),
    ("depth", ".png"),
    ("depth", ".tif"),
    ("depth", ".exr"),
    ("depth", ".npy"),
)
W, H = 24, 16
#: Peak memory (MB) an input may add: at a 1 MP budget no honest input needs 100 MB.
MAX_GROWTH_MB = 1000


def seeds() -> list[bytes]:
    """One small valid file per target, prefixed with the target's byte."""
    import cv2
    import OpenEXR

    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([x * 10, y * 15, (x + y) * 5], axis=-1).astype(np.uint8)
    z = (1.0 + (x + y) / 10).astype(np.float32)

    def encode(suffix: str, array: np.ndarray) -> bytes:
        return cv2.imencode(suffix, array)[1].tobytes()

    exr = io.BytesIO()
    with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, {"Z": z}) as f:
        f.write(exr)
    npy = io.BytesIO()
    np.save(npy, z)
    files = [
        encode(".jpg", rgb),
        encode(".png", rgb),
        encode(".tif", rgb),
        encode(".webp", rgb),
        encode(".png", (z * 1000).astype(np.uint16)),
        encode(".tif", z),
        exr.getvalue(),
        npy.getvalue(),
    ]
    return [bytes([index]) + data for index, data in enumerate(files)]


class Harness:
    """Writes each input to a file, loads it, and counts what happened."""

    def __init__(self, folder: Path, results: str, target: int = 0) -> None:
        from stillcam.depth.convert import DEPTH_KINDS, DepthSettings, depth_from_raw
        from stillcam.errors import StillcamError
        from stillcam.io.depthfile import read_depth_file
        from stillcam.io.image import load_image

        self.folder = folder
        self.results = results
        self.target = target
        self.error_type = StillcamError
        self.loaders: dict[str, Callable[[Path], Any]] = {"photo": load_image, "depth": read_depth_file}
        self.convert = depth_from_raw
        self.settings = [DepthSettings(depth_kind=kind, baseline=0.1) for kind in DEPTH_KINDS]
        self.counts: collections.Counter[str] = collections.Counter()
        self.messages: collections.Counter[str] = collections.Counter()
        self.started = time.perf_counter()
        self.baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + 200
        log = logging.getLogger("stillcam")
        log.propagate = False
        log.addHandler(_Counting(self.counts))

    def __call__(self, data: bytes) -> None:
        if not data:
            return
        kind, suffix = TARGETS[data[0] % len(TARGETS)]
        path = self.folder / f"input{suffix}"
        path.write_bytes(data[1:])
        self.counts["inputs"] += 1
        self.counts[f"{kind}{suffix}"] += 1
        try:
            loaded = self.loaders[kind](path)
        except self.error_type as exc:
            self._check(exc, path, "refused")
        else:
            self.counts["loaded"] += 1
            if kind == "depth":
                for settings in self.settings:
                    self._convert(loaded, settings, path)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - self.baseline_mb
        if grown > MAX_GROWTH_MB:  # a memory bomb: a small file that makes a decoder reserve GBs
            raise AssertionError(f"{path.name}: peak memory grew by {grown:.0f} MB on one input")
        if self.counts["inputs"] % 500 == 0 or self.counts["inputs"] == self.target:
            self.save()  # libFuzzer ends the process without running Python's atexit

    def _convert(self, raw: Any, settings: Any, path: Path) -> None:
        try:
            z = self.convert(raw, settings, focal_px=100.0)
        except self.error_type as exc:
            self._check(exc, path, "conversion refused")
            return
        if not (np.isfinite(z).all() and z.min() > 0):
            raise AssertionError(f"{path.name}: depth_from_raw returned non-finite or non-positive depth")
        self.counts["converted"] += 1

    def _check(self, exc: Exception, path: Path, label: str) -> None:
        message = str(exc)
        if "\n" in message or (path.name not in message and "--" not in message):
            raise AssertionError(f"not one line naming the file: {message!r}")
        self.counts[f"{label}: {type(exc).__name__}"] += 1
        self.messages[_shape(message, path)] += 1

    def save(self) -> Path:
        seconds = time.perf_counter() - self.started
        data = {
            "counts": dict(self.counts),
            "seconds": round(seconds, 1),
            "inputs_per_second": round(self.counts["inputs"] / max(seconds, 1e-9), 1),
            "distinct_messages": len(self.messages),
            "messages": dict(self.messages.most_common()),
        }
        return save_results(self.results, data)


class _Counting(logging.Handler):
    """Counts the loaders' warnings (a photo decoded with damage) instead of printing them."""

    def __init__(self, counts: collections.Counter[str]) -> None:
        super().__init__(logging.WARNING)
        self.counts = counts

    def emit(self, record: logging.LogRecord) -> None:
        self.counts["loaded with a warning"] += 1


def _shape(message: str, path: Path) -> str:
    """A message with its file name and numbers blanked: the kind of refusal."""
    text = message.replace(str(path), "FILE").replace(path.name, "FILE")
    out, digits = [], False
    for char in text:
        if char.isdigit():
            if not digits:
                out.append("#")
            digits = True
        else:
            out.append(char)
            digits = False
    return "".join(out)[:120]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One of: flip bits, truncate, insert or delete a run, write an interesting integer."""
    body = bytearray(data[1:])
    if not body:
        return data
    choice = rng.randrange(6)
    if choice == 0:
        for _ in range(rng.randint(1, 8)):
            body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
    elif choice == 1:
        body = body[: rng.randrange(len(body))]
    elif choice == 2:
        at = rng.randrange(len(body))
        body[at:at] = rng.randbytes(rng.randint(1, 64))
    elif choice == 3:
        at = rng.randrange(len(body))
        del body[at : at + rng.randint(1, 64)]
    elif choice == 4:
        at = rng.randrange(max(1, min(len(body), 400) - 4))  # the headers live in the first bytes
        value = rng.choice([0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 40000, 100000])
        body[at : at + 4] = struct.pack(rng.choice(["<I", ">I"]), value)
    else:
        at = rng.randrange(len(body))
        body[at : at + 16] = rng.randbytes(16)
    return data[:1] + bytes(body)


def mutation_loop(harness: Harness, runs: int, seconds: float, seed: int) -> None:
    """The fallback without atheris: seeded mutations of the seeds and of inputs that loaded."""
    rng = random.Random(seed)
    pools = [[seed_file] for seed_file in seeds()]  # one per target, so that each gets its share
    deadline = time.perf_counter() + seconds
    for _ in range(runs):
        if time.perf_counter() > deadline:
            break
        pool = rng.choice(pools)
        data = mutate(rng, rng.choice(pool))
        if rng.random() < 0.3:
            data = mutate(rng, data)
        before = harness.counts["loaded"]
        harness(data)
        if harness.counts["loaded"] > before and len(pool) < 100:
            pool.append(data)  # keep inputs that got through: deeper mutations of them next


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20000, help="inputs to try (default 20000)")
    parser.add_argument("--seconds", type=float, default=900, help="stop after this long (default 900)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the mutation loop and of libFuzzer")
    parser.add_argument("--mutate", action="store_true", help="the seeded mutation loop, even with atheris")
    args, rest = parser.parse_known_args()
    try:
        import atheris
    except ImportError:
        atheris = None
    # A folder of results/, not a temporary one: libFuzzer ends the process without cleaning up.
    folder = RESULTS / "fuzz-work"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if atheris is None or args.mutate:
        harness = Harness(folder, "fuzz_loaders_mutate")
        print(
            "atheris " + ("not installed" if atheris is None else "not used") + ": the seeded mutation loop",
            file=sys.stderr,
        )
        mutation_loop(harness, args.runs, args.seconds, args.seed)
        print(harness.save(), dict(harness.counts))
        return
    with atheris.instrument_imports(include=["stillcam", "PIL"]):  # Pillow parses the headers
        import stillcam.depth.convert
        import stillcam.io.depthfile
        import stillcam.io.image
        import stillcam.io.limits  # noqa: F401
    harness = Harness(folder, "fuzz_loaders", target=args.runs)
    corpus = folder / "corpus"
    corpus.mkdir()
    for index, data in enumerate(seeds()):
        (corpus / f"seed{index}").write_bytes(data)
    argv = [
        sys.argv[0],
        *rest,
        f"-runs={args.runs}",
        f"-max_total_time={int(args.seconds)}",
        f"-seed={args.seed}",
        "-max_len=8192",
        "-rss_limit_mb=4096",
        f"-artifact_prefix={RESULTS}/fuzz-",
        str(corpus),
    ]
    atheris.Setup(argv, harness)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
