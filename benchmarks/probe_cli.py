"""Probe the command line with generated cases: every option with bad and edge values (NaN,
infinities, 0, negatives, 1e308, huge integers, empty text, non-numbers, unicode), move
expressions, camera files, and combinations, each run in this process against a tiny photo
and its depth map (32 x 24, made in a temporary folder) under a 20 s alarm.

    python benchmarks/probe_cli.py            # prints a table, writes results/probe_cli.json
    python benchmarks/probe_cli.py --quick    # every 7th case (a smoke run)

Each case says what must happen: ``fail`` (a bad input: exit 1 or 2 with one line),
``ok`` (a valid input: expected to exit 0; a clean refusal is listed, not counted as a
failure), or ``any`` (valid either way, e.g. a GPU renderer that may be absent). Counted:

* **tracebacks** - an exception other than a :class:`~stillcam.errors.StillcamError`
  turned into exit 1/2 by ``stillcam.cli.main`` (or any other exit code);
* **hangs** - a case still running after 20 s;
* **bad accepted** - a ``fail`` case that exits 0;
* **multi-line errors** - a failing exit whose stderr is not exactly one
  ``stillcam: error: ...`` line (``stillcam: warning: ...`` lines aside).

Goal (issue #15): 0 / 0 / 0 / 0 over at least 1000 cases.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stillcam.camera.moves import MOVES
from stillcam.cli import main as stillcam_main
from stillcam_run import save_results

ALARM_S = 20
#: The render every case starts from: 2 frames of 32 x 24.
FAST = ["--quiet", "--overwrite", "--size", "32x24", "--duration", "0.25", "--fps", "8"]


@dataclass
class Case:
    """One command line (``{tmp}`` is the temporary folder) and what must happen."""

    group: str
    argv: list[str]
    expect: str  # "fail", "ok" or "any"


# ----------------------------------------------------------------------------------------
# Values


FLOATS = [
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "0",
    "-0",
    "-1",
    "-1e-9",
    "1e308",
    "-1e308",
    "1e-308",
    "5e-324",
    "1e400",
    "",
    " ",
    "abc",
    "1e",
    "0x10",
    "1_0",
    "1,5",
    "--",
    "-",
    "\u0661\u0662",
    "\uff15",
    "\u00bd",
    "0.5",
    "1",
    "2.5",
    "4",
    "10",
    "64",
    "100",
    "3600",
    "3601",
    "1e6",
    "1e9",
    "1e10",
]
INTS = [
    "0",
    "-1",
    "1",
    "2",
    "8",
    "9",
    "16",
    "51",
    "52",
    "64",
    "65",
    "1024",
    "1025",
    "10000000",
    "10000001",
    "99999999999999999999",
    "-99999999999999999999",
    "9" * 5000,
    "1.5",
    "1e3",
    "",
    "abc",
    "0x10",
    "\u0661",
    "\uff12",
    "nan",
    "inf",
    "-0",
]


def _float(text: str) -> float | None:
    """What argparse's ``type=float`` makes of ``text`` (None: it refuses it)."""
    try:
        return float(text)
    except ValueError:
        return None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


#: option -> (low, high, open low, open high): the ranges stillcam documents.
FLOAT_OPTIONS: dict[str, tuple[float, float, bool, bool]] = {
    "--duration": (0.0, 3600.0, True, False),
    "--focal-mm": (1.0, 5000.0, False, False),
    "--fov": (0.1, 179.0, False, True),
    "--target-depth": (1e-6, 1e6, False, False),
    "--max-reveal": (0.0, 1.0, True, False),
    "--near": (1e-6, 1e9, False, False),
    "--far": (1e-6, 1e9, False, False),
    "--baseline": (0.0, 1e9, True, False),
    "--depth-scale": (0.0, 1e9, True, False),
    "--spacing": (1.0, 64.0, False, False),
    "--soft-edge": (0.0, 4.0, False, False),
    "--cut-threshold": (0.0, 100.0, True, False),
}
INT_OPTIONS: dict[str, tuple[int, int]] = {
    "--first-frame": (0, 10_000_000),
    "--stride": (0, 1024),
    "--supersample": (1, 8),
    "--crf": (0, 51),
    "--encoder-threads": (1, 64),
}
#: Options that scale the depth map: a value in range may still make depths out of a scene's.
DEPTH_OPTIONS = ("--near", "--far", "--baseline", "--depth-scale")


def _inside(value: float, low: float, high: float, open_low: bool, open_high: bool) -> bool:
    return (
        value == value
        and abs(value) != float("inf")
        and (low < value if open_low else low <= value)
        and (value < high if open_high else value <= high)
    )


def _render(*extra: str, output: str = "{tmp}/out/o.####.png") -> list[str]:
    return ["render", "{tmp}/photo.png", "--depth", "{tmp}/depth.npy", "-o", output, *FAST, *extra]


def _wide(*extra: str) -> list[str]:
    """A render of the 16400 x 16 photo (wider than an output frame may be)."""
    base = ["render", "{tmp}/wide.png", "--depth", "{tmp}/wide.npy", "-o", "{tmp}/out/w.####.png"]
    return [*base, "--quiet", "--overwrite", "--duration", "0.25", "--fps", "8", *extra]


def _export(*extra: str) -> list[str]:
    base = ["export", "{tmp}/photo.png", "--depth", "{tmp}/depth.npy", "-o", "{tmp}/out/cams.json"]
    return [*base, "--overwrite", "--size", "32x24", "--duration", "0.25", "--fps", "8", *extra]


#: What a valid value of an option needs beside it to render (a depth kind that uses it...).
COMPANIONS = {
    "--near": ["--depth-kind", "inverse-depth", "--far", "1e9"],
    "--far": ["--depth-kind", "inverse-depth", "--near", "1e-6"],
    "--baseline": ["--depth-kind", "disparity"],
}


def _float_case(option: str, text: str) -> list[Case]:
    """``option`` with ``text``, as ``--opt VALUE`` and (negative values) ``--opt=VALUE``."""
    low, high, open_low, open_high = FLOAT_OPTIONS[option]
    value = _float(text)
    ok = value is not None and _inside(value, low, high, open_low, open_high)
    extra = COMPANIONS.get(option, []) if ok else []
    if option == "--duration" and ok and value > 8:  # many frames: render two of them
        extra = ["--frames", "1001-1002"]
    expect = "ok" if ok else "fail"
    if ok and option in DEPTH_OPTIONS and not 1e-6 <= value < 1e9:
        expect = "any"  # in range, but the depth it makes may not be (refused from the data)
    cases = [Case(option, _render(option, text, *extra), expect)]
    if text.startswith("-") and text not in ("-", "--"):
        cases.append(Case(option, _render(f"{option}={text}", *extra), expect))
    return cases


def numeric_cases() -> list[Case]:
    """Every numeric option with every value of :data:`FLOATS` / :data:`INTS`, both as
    ``--opt VALUE`` and ``--opt=VALUE``."""
    cases = [case for option in FLOAT_OPTIONS for text in FLOATS for case in _float_case(option, text)]
    for option, (low, high) in INT_OPTIONS.items():
        for text in INTS:
            value = _int(text)
            expect = "ok" if value is not None and low <= value <= high else "fail"
            cases.append(Case(option, _render(option, text), expect))
            if text.startswith("-"):
                cases.append(Case(option, _render(f"{option}={text}"), expect))
    for text in [*INTS, "12", "16"]:
        value = _int(text)
        cases.append(Case("--bit-depth", _render("--bit-depth", text), "ok" if value in (8, 16) else "fail"))
    return cases


def _fmt(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() or abs(value) >= 1e16 else str(int(value))


def move_parameter_cases() -> list[Case]:
    """Every parameter of every move at its bounds, just past them, and at absurd values;
    through ``--set`` and inside ``--move NAME(...)``."""
    cases = []
    for spec in MOVES.values():
        for p in spec.params:
            span = p.high - p.low
            values: list[tuple[str, bool]] = [
                (_fmt(p.low), True),
                (_fmt(p.high), True),
                (_fmt(p.low - max(1e-3 * span, 1)), False),
                (_fmt(p.high + max(1e-3 * span, 1)), False),
                ("1e308", False),
                ("-1e308", False),
                ("nan", False),
                ("inf", False),
                ("abc", False),
                ("", p.default is None),  # empty = unset: only a parameter without a default
                ("none", p.default is None),
            ]
            if p.integer:
                values += [("1.5", False), ("3", True)]
            if p.low <= 0 <= p.high and not p.integer:
                values.append(("0", True))
            for text, ok in values:
                expect = "ok" if ok else "fail"
                group = f"move {spec.name}"
                cases.append(Case(group, _render("--move", spec.name, "--set", f"{p.name}={text}"), expect))
                expect = "any" if text == "" and ok else expect  # NAME(key=) is refused, --set key= not
                cases.append(Case(group, _render("--move", f"{spec.name}({p.name}={text})"), expect))
            for text in (_fmt(p.low), _fmt(p.high)):  # the ends of the range, clamped and zoomed
                move = f"{spec.name}({p.name}={text})"
                cases.append(Case(f"move {spec.name}", _render("--move", move, "--safe"), "ok"))
                cases.append(Case(f"move {spec.name}", _render("--move", move, "--framing", "inside"), "ok"))
    return cases


MOVE_EXPRESSIONS: list[tuple[str, str]] = [
    ("", "fail"),
    (" ", "fail"),
    ("orbit", "ok"),
    ("ORBIT", "fail"),
    ("órbit", "fail"),
    ("orbit(", "fail"),
    ("orbit)", "fail"),
    ("orbit()", "ok"),
    ("orbit(degrees=5,,)", "fail"),
    ("orbit(,degrees=5)", "fail"),
    ("orbit(degrees=5, degrees=6)", "fail"),
    ("orbit(degrees)", "fail"),
    ("orbit(=5)", "fail"),
    ("orbit(degrees==5)", "fail"),
    ("orbit(degrees=5))", "fail"),
    ("orbit((degrees=5))", "fail"),
    ("((()))", "fail"),
    ("orbit then", "fail"),
    ("then orbit", "fail"),
    ("orbit then then pan", "fail"),
    ("orbit +", "fail"),
    ("+ orbit", "fail"),
    ("orbit + + handheld", "fail"),
    ("pan(frames=1) then tilt(frames=1) then roll(frames=1)", "ok"),
    ("pan + handheld(seed=3)", "ok"),
    ("pan(duration=0.125) then tilt", "ok"),
    ("pan + handheld(duration=2)", "fail"),
    ("pan + handheld(frames=2)", "fail"),
    ("orbit(duration=1e6)", "fail"),
    ("orbit(duration=0)", "fail"),
    ("orbit(duration=-1)", "fail"),
    ("orbit(duration=nan)", "fail"),
    ("orbit(duration=inf)", "fail"),
    ("orbit(duration=abc)", "fail"),
    ("orbit(duration=0.25s)", "ok"),
    ("orbit(duration=3601)", "fail"),
    ("orbit(frames=0)", "fail"),
    ("orbit(frames=-1)", "fail"),
    ("orbit(frames=1e9)", "fail"),
    ("orbit(frames=1000000000)", "fail"),
    ("orbit(frames=1.5)", "fail"),
    ("orbit(frames=100001)", "fail"),
    ("orbit(frames=3)", "ok"),
    ("orbit(frames=2, duration=1)", "fail"),
    ("orbit(duration=3000) then pan(duration=3000)", "fail"),
    ("orbit(easing=bogus)", "fail"),
    ("orbit(easing=linear)", "ok"),
    ("orbit(easing=)", "fail"),
    ("orbit(easing=linear, easing=ease-in)", "fail"),
    ("orbit(easing=bezier(0.2,0,0.8,1))", "ok"),
    ("orbit(easing=bezier(2,0,0,1))", "fail"),
    ("orbit(easing=bezier(0,nan,1,1))", "fail"),
    ("orbit(degrees=\uff15)", "ok"),
    ("orbit(degrees=5e)", "fail"),
    ("orbit(degrees=0x10)", "fail"),
    ("orbit(degrees=none)", "fail"),
    ("zoom-in(to_mm=none)", "ok"),
    ("dolly-in(distance=none)", "ok"),
    ("static(x=1)", "fail"),
    ("static", "ok"),
    ("orbit\x00", "fail"),
    ("orbit\n", "ok"),
    ("\norbit", "ok"),
    ("  orbit  then  pan  ", "ok"),
    ("orbit" + "(degrees=1)" * 2, "fail"),
    ("x" * 1000, "fail"),
    ("orbit then " * 3000 + "pan", "fail"),
    ("pan+" * 100 + "pan", "fail"),
    ("orbit(" + "degrees=1," * 2000 + ")", "fail"),
    ("(" * 5000 + ")" * 5000, "fail"),
    ("orbit(degrees=1e308) then pan", "fail"),
    ("dolly-in(fraction=1e308)", "fail"),
    ("dolly-in(fraction=0.95)", "ok"),
    ("dolly-in(fraction=100)", "ok"),
    ("dolly-zoom(fraction=100)", "ok"),
    ("dolly-zoom(fraction=-100)", "ok"),
    ("zoom-in(to_mm=-5)", "fail"),
    ("zoom-in(factor=0)", "fail"),
    ("handheld(seed=-1)", "fail"),
    ("handheld(seed=4294967296)", "fail"),
    ("handheld(seed=7)", "ok"),
    ("spiral(turns=100, radius=100, push=100)", "ok"),
    ("lemniscate(turns=-100, radius=-100)", "ok"),
    ("crane(distance=1e6)", "ok"),
    ("truck(distance=-1e6)", "ok"),
]


def expression_cases() -> list[Case]:
    cases = [Case("--move", _render("--move", text), expect) for text, expect in MOVE_EXPRESSIONS]
    cases.append(Case("--move", _render("--move", "pan then tilt", "--set", "degrees=3"), "fail"))
    long = ["--move", "orbit(frames=100000)", "--fps", "1000"]
    cases.append(Case("--move", _render(*long, "--frames", "1001-1002"), "ok"))
    cases.append(Case("--move", _render(*long, "--frames", "1001-101001"), "fail"))
    return cases


TEXT_OPTIONS: dict[str, list[tuple[str, str]]] = {
    "--size": [
        ("", "fail"),
        ("x", "fail"),
        ("0x0", "fail"),
        ("15x16", "fail"),
        ("16x15", "fail"),
        ("16x16", "ok"),
        ("16384x16", "ok"),
        ("16385x16", "fail"),
        ("16x16385", "fail"),
        ("8192x16385", "fail"),
        ("16384x16384", "fail"),
        ("32768x2", "fail"),
        ("32768x32768", "fail"),
        ("-5x3", "fail"),
        ("5x-3", "fail"),
        ("-32x-24", "fail"),
        ("1.5x2", "fail"),
        ("32.0x24", "fail"),
        ("32x24 ", "ok"),
        (" 32 x 24", "ok"),
        ("32X24", "ok"),
        ("\uff13\uff12x\uff12\uff14", "ok"),
        ("9" * 5000 + "x16", "fail"),
        ("16x" + "9" * 12, "fail"),
        ("0x16", "fail"),
        ("hd", "ok"),
        ("HD", "ok"),
        ("UHDX", "fail"),
        ("source", "ok"),
        ("SOURCE", "ok"),
        ("nan", "fail"),
        ("inf", "fail"),
        ("1e308", "fail"),
        ("32x24x3", "fail"),
        ("32,24", "fail"),
        ("\u00bdx16", "fail"),
    ],
    "--fps": [
        ("24", "ok"),
        ("23.976", "ok"),
        ("24000/1001", "ok"),
        ("1000", "ok"),
        ("1001", "fail"),
        ("0", "fail"),
        ("-1", "fail"),
        ("-24", "fail"),
        ("-inf", "fail"),
        ("inf", "fail"),
        ("nan", "fail"),
        ("1e-9", "fail"),
        ("1/3600", "ok"),
        ("1/3601", "fail"),
        ("0.5", "ok"),
        ("999.99999999999", "fail"),
        ("999.999999", "ok"),
        ("abc", "fail"),
        ("", "fail"),
        ("1/0", "fail"),
        ("24/", "fail"),
        ("/24", "fail"),
        ("\uff12\uff14", "ok"),
        ("1e308", "fail"),
        ("1" * 5000, "fail"),
        ("24 fps", "fail"),
        ("0x18", "fail"),
        ("24/-1", "fail"),
    ],
    "--frames": [
        ("1001-1002", "ok"),
        ("1002-1001", "fail"),
        ("0-1", "fail"),
        ("1001-99999", "fail"),
        ("-1-5", "fail"),
        ("a-b", "fail"),
        ("", "fail"),
        ("1001", "fail"),
        ("1001-1002-1003", "fail"),
        ("9" * 20 + "-" + "9" * 20, "fail"),
        ("\uff11\uff10\uff10\uff11-\uff11\uff10\uff10\uff12", "ok"),
        ("1001.5-1002", "fail"),
        ("1001 - 1002", "ok"),
    ],
    "--target": [
        ("0.5,0.5", "ok"),
        ("0,0", "ok"),
        ("1,1", "ok"),
        ("-1,0.5", "fail"),
        ("0.5,-0.1", "fail"),
        ("nan,0.5", "fail"),
        ("inf,0", "fail"),
        ("0.5", "fail"),
        ("0.5,0.5,0.5", "fail"),
        ("", "fail"),
        (",", "fail"),
        ("a,b", "fail"),
        ("1e308,0", "fail"),
        ("1.01,0", "fail"),
    ],
    "--easing": [
        ("linear", "ok"),
        ("ease-in", "ok"),
        ("ease-in-out", "ok"),
        ("bogus", "fail"),
        ("", "fail"),
        ("bezier(0.25,0.1,0.25,1)", "ok"),
        ("cubic-bezier(0,0,1,1)", "ok"),
        ("bezier(0,1e308,1,1)", "fail"),
        ("bezier(0,10,1,-10)", "ok"),
        ("bezier(0,11,1,1)", "fail"),
        ("bezier(2,0,0,1)", "fail"),
        ("bezier(-0.1,0,0,1)", "fail"),
        ("bezier(nan,0,1,1)", "fail"),
        ("bezier(0,nan,1,1)", "fail"),
        ("bezier(0,0,1)", "fail"),
        ("bezier()", "fail"),
        ("bezier(a,b,c,d)", "fail"),
        ("bezier(0,0,1,1", "fail"),
    ],
    "--move": [("-orbit", "fail"), ("--orbit", "fail"), ("-", "fail")],
    "--set": [("degrees=", "fail"), ("=5", "fail"), ("degrees", "fail"), ("", "fail"), ("-x=1", "fail")],
    "--preset": [("veryfast", "ok"), ("slow", "ok"), ("warp", "fail"), ("", "fail"), ("-1", "fail")],
    "--fill": [
        ("telea", "ok"),
        ("ns", "ok"),
        ("propagate", "ok"),
        ("nearest", "ok"),
        ("patch", "ok"),
        ("none", "ok"),
        ("bogus", "fail"),
        ("", "fail"),
        ("lama", "fail"),
        ("migan", "any"),
    ],
    "--outpaint": [("propagate", "ok"), ("nearest", "ok"), ("bogus", "fail"), ("", "fail"), ("none", "fail")],
    "--pass": [("depth", "ok"), ("coverage", "ok"), ("bogus", "fail"), ("", "fail"), ("DEPTH", "fail")],
    "--matte": [
        ("0,0,0", "ok"),
        ("1,1,1", "ok"),
        ("0.5,0.25,1", "ok"),
        ("nan,0,0", "fail"),
        ("-1,0,0", "fail"),
        ("0,0", "fail"),
        ("", "fail"),
        ("2,0,0", "fail"),
        ("inf,0,0", "fail"),
        ("0,0,0,0", "fail"),
    ],
    "--renderer": [
        ("cpu", "ok"),
        ("reference", "ok"),
        ("gl", "any"),
        ("auto", "any"),
        ("bogus", "fail"),
        ("", "fail"),
    ],
    "--depth-kind": [("depth", "ok"), ("inverse-depth", "ok"), ("disparity", "fail"), ("bogus", "fail")],
    "--upsample": [("snap", "ok"), ("bilinear", "ok"), ("bogus", "fail")],
    "--framing": [("free", "ok"), ("inside", "ok"), ("bogus", "fail"), ("", "fail")],
    "--exr-compression": [("zip", "ok"), ("none", "ok"), ("bogus", "fail")],
    "--output-colorspace": [("lin_rec709", "ok"), ("ACEScg", "any"), ("bogus", "fail")],
    "--codec": [("h264", "ok"), ("bogus", "fail"), ("", "fail")],
    "--depth-model": [("bogus", "any"), ("", "any")],
    "--timecode": [("", "ok"), ("01:00:00:00", "ok"), ("99:99:99:99", "any")],
}
VIDEO_CASES: list[tuple[list[str], str]] = [
    (["--timecode", "01:00:00:07"], "ok"),
    (["--timecode", "01:00:00:08"], "fail"),
    (["--timecode", "1:00:00"], "fail"),
    (["--timecode", "01:00:00;00"], "fail"),
    (["--timecode", "24:00:00:00"], "fail"),
    (["--timecode", "-1"], "fail"),
    (["--codec", "prores-422hq"], "fail"),
    (["--codec", "h265"], "ok"),
    (["--size", "33x24"], "fail"),
    (["--size", "16384x16"], "any"),
    (["--size", "16x16384"], "any"),
    (["--fps", "999.999999"], "ok"),
    (["--fps", "1/3600"], "ok"),
    (["--fps", "24000/1001"], "ok"),
    (["--crf", "0"], "ok"),
    (["--crf", "52"], "fail"),
    (["--bit-depth", "16"], "fail"),
    (["--codec", "h265", "--bit-depth", "16"], "ok"),
    (["--codec", "h265", "--size", "8192x16"], "any"),  # libx265 refuses some elongated frames
    (["--codec", "h265", "--size", "16x8192"], "any"),
]


def text_cases() -> list[Case]:
    cases = []
    for option, values in TEXT_OPTIONS.items():
        for text, expect in values:
            extra = [option, text]
            if option == "--depth-kind" and text == "inverse-depth":
                extra += ["--near", "1", "--far", "5"]
            cases.append(Case(option, _render(*extra), expect))
            if text.startswith("-"):
                cases.append(Case(option, _render(f"{option}={text}"), expect))
    cases.append(Case("--depth-kind", _render("--depth-kind", "disparity", "--baseline", "0.1"), "ok"))
    for extra, expect in VIDEO_CASES:
        cases.append(Case("video", _render(*extra, output="{tmp}/out/v.mp4"), expect))
    return cases


def size_cases() -> list[Case]:
    """Output sizes and the pixel budget: large valid frames go through ``export`` (no frame
    is rendered), so the probe stays small."""
    cases = [
        Case("size budget", _export("--size", "8192x16384"), "ok"),
        Case("size budget", _export("--size", "16384x8192"), "ok"),
        Case("size budget", _export("--size", "16384x8193"), "fail"),
        Case("size budget", _export("--size", "4096x4096", "--supersample", "2"), "ok"),
        Case("size budget", _export("--size", "8192x8192", "--supersample", "2"), "fail"),
        Case("size budget", _export("--size", "UHD", "--supersample", "4"), "ok"),
        Case("size budget", _export("--size", "UHD", "--supersample", "5"), "fail"),
        Case("size budget", _render("--size", "16x16", "--supersample", "8"), "ok"),
        Case("frames", _export("--duration", "3600", "--fps", "27.7"), "ok"),
        Case("frames", _export("--duration", "3600", "--fps", "28"), "fail"),
        Case("frames", _export("--duration", "100", "--fps", "1000"), "ok"),
        Case("frames", _export("--duration", "100.001", "--fps", "1000"), "fail"),
        Case("frames", _export("--duration", "1e6"), "fail"),
        Case("frames", _export("--move", "orbit(duration=1e6)"), "fail"),
        Case("frames", _export("--fps", "1e-9"), "fail"),
        Case("size source", _wide("--size", "source"), "fail"),
        Case("size source", _wide("--size", "64x16"), "ok"),
        Case("size source", _wide("--size", "16384x16"), "any"),
    ]
    return cases


def command_cases() -> list[Case]:
    """The other commands, and argparse's own errors."""
    cases = [
        Case("export", _export("--supersample", "-1"), "fail"),
        Case("export", _export("--pass", "bogus"), "fail"),
        Case("export", _export(), "ok"),
        Case("export", _export("--stride", "-1"), "fail"),
        Case(
            "export",
            ["export", "{tmp}/photo.png", "--depth", "{tmp}/depth.npy", "-o", "{tmp}/out/x.txt"],
            "fail",
        ),
        Case("export", ["export", "{tmp}/photo.png", "--depth", "{tmp}/depth.npy"], "fail"),
        Case("demo", ["demo", *FAST, "--example-size", "64x36", "-o", "{tmp}/out/d.####.png"], "ok"),
        Case("demo", ["demo", *FAST, "--example-size", "16x16", "-o", "{tmp}/out/d.####.png"], "ok"),
        Case("rerender", ["rerender", "{tmp}/missing.recipe.json", "-o", "{tmp}/out/r.mp4"], "fail"),
        Case("rerender", ["rerender", "{tmp}/garbage.json", "-o", "{tmp}/out/r.mp4"], "fail"),
        Case("rerender", ["rerender", "{tmp}/out", "-o", "{tmp}/out/r.mp4"], "fail"),
        Case("models", ["models", "pull"], "fail"),
        Case("models", ["models", "pull", "bogus"], "fail"),
        Case("models", ["models", "bogus"], "fail"),
        Case("moves", ["moves"], "ok"),
        Case("moves", ["moves", "extra"], "fail"),
        Case("argparse", [], "fail"),
        Case("argparse", ["bogus"], "fail"),
        Case("argparse", ["render"], "fail"),
        Case("argparse", ["render", "{tmp}/photo.png"], "fail"),
        Case("argparse", _render("--zzz"), "fail"),
        Case("argparse", _render("--size"), "fail"),
        Case("argparse", _render("--size="), "fail"),
        Case("argparse", _render("--siz", "-5x3"), "fail"),
        Case("argparse", _render("--dur", "-3"), "fail"),
        Case("argparse", _render("--size", "--fps", "8"), "fail"),
        Case("argparse", _render("--", "extra"), "fail"),
        Case("argparse", ["--version"], "ok"),
        Case("argparse", ["render", "--help"], "ok"),
        Case("argparse", ["-x"], "fail"),
    ]
    for text in ["example", "0x0", "100000x100000", "10001x10001", "abc", "", "-5x3", "nan"]:
        cases.append(
            Case("demo", ["demo", *FAST, "--example-size", text, "-o", "{tmp}/out/d.####.png"], "fail")
        )
    for option, values in {
        "--port": ["0", "65536", "-1", "abc", "", "nan", "99999999999999999999"],
        "--workers": ["0", "65", "-1", "abc", "1.5"],
        "--max-upload-mb": ["nan", "inf", "-inf", "0", "-1", "1e308", "abc", ""],
    }.items():
        for text in values:  # a valid value would start the server: only bad ones
            cases.append(Case("serve", ["serve", "--data-dir", "{tmp}/web", option, text], "fail"))
    return cases


def camera_file_cases() -> list[Case]:
    """Shot files and transforms.json through ``--path`` (the files: :func:`make_inputs`)."""
    files = {
        "shot.yaml": "ok",
        "long.json": "fail",
        "huge_frames.yaml": "fail",
        "long_duration.yaml": "fail",
        "far_key.yaml": "fail",
        "nested.json": "fail",
        "empty.yaml": "fail",
        "transforms.json": "ok",
        "missing.yaml": "fail",
        "out": "fail",
    }
    cases = [Case("--path", _render("--path", "{tmp}/" + name), expect) for name, expect in files.items()]
    cases.append(Case("--path", _render("--path", "{tmp}/shot.yaml", "--move", "pan"), "fail"))
    cases.append(Case("--path", _render("--path", "{tmp}/transforms.json", "--safe"), "fail"))
    video = "{tmp}/out/v.mp4"
    cases.append(Case("--path", _render("--path", "{tmp}/precise_fps.yaml", output=video), "fail"))
    cases.append(Case("--path", _render("--path", "{tmp}/slow_fps.yaml", output=video), "fail"))
    cases.append(Case("--path", _render("--path", "{tmp}/new\nline.yaml"), "fail"))
    return cases


def combination_cases(count: int, seed: int = 15) -> list[Case]:
    """``count`` renders with 2-4 options drawn from the cases above: bad if one part is bad."""
    rng = random.Random(seed)
    parts: list[tuple[list[str], str]] = []
    for option, (low, high, open_low, open_high) in FLOAT_OPTIONS.items():
        if option in ("--near", "--far", "--baseline", "--duration"):
            continue
        for text in ("nan", "-1", "0.5", "1", "2", "1e308"):
            value = float(text)
            parts.append(([option, text], "ok" if _inside(value, low, high, open_low, open_high) else "fail"))
    for option, values in TEXT_OPTIONS.items():
        if option in (
            "--depth-kind",
            "--fill",
            "--renderer",
            "--output-colorspace",
            "--depth-model",
            "--timecode",
        ):
            continue
        parts += [([option, text], expect) for text, expect in values[:6] if expect != "any"]
    parts += [(["--move", text], expect) for text, expect in MOVE_EXPRESSIONS[:40] if len(text) < 100]
    cases = []
    for _ in range(count):
        chosen = rng.sample(parts, rng.randint(2, 4))
        names = [argv[0] for argv, _ in chosen]
        repeated = [name for name in set(names) if names.count(name) > 1 and name != "--pass"]
        if repeated:
            continue  # the last of a repeated option wins: not a combination
        if "--focal-mm" in names and "--fov" in names:
            expect = "fail"
        else:
            expect = "fail" if any(e == "fail" for _, e in chosen) else "any"
        cases.append(Case("combination", _render(*[w for argv, _ in chosen for w in argv]), expect))
    return cases


def all_cases() -> list[Case]:
    return [
        *numeric_cases(),
        *move_parameter_cases(),
        *expression_cases(),
        *text_cases(),
        *size_cases(),
        *command_cases(),
        *camera_file_cases(),
        *combination_cases(250),
    ]


# ----------------------------------------------------------------------------------------
# Running


def make_inputs(folder: Path) -> None:
    """The tiny photo and depth map, and the camera files the cases name."""
    rng = np.random.default_rng(15)
    cv2.imwrite(str(folder / "photo.png"), (rng.random((24, 32, 3)) * 255).astype(np.uint8))
    np.save(folder / "depth.npy", np.linspace(1.0, 3.0, 24 * 32, dtype=np.float32).reshape(24, 32))
    cv2.imwrite(str(folder / "wide.png"), (rng.random((16, 16400, 3)) * 255).astype(np.uint8))
    np.save(folder / "wide.npy", np.full((16, 16400), 2.0, np.float32))
    (folder / "out").mkdir()
    (folder / "garbage.json").write_text("{not json")
    (folder / "shot.yaml").write_text(
        "segments:\n  - move: orbit\n    frames: 2\n  - move: pan\n    frames: 1\n"
    )
    (folder / "long.json").write_text(json.dumps({"segments": [{"move": "orbit", "frames": 10**9}]}))
    (folder / "huge_frames.yaml").write_text("keyframes:\n  - frame: 1001\n  - frame: 1000001001\n")
    (folder / "long_duration.yaml").write_text("duration: 1e6\nsegments:\n  - move: orbit\n")
    (folder / "far_key.yaml").write_text(
        "keyframes:\n  - time: 0\n  - time: 1\n    position: [1e308, 0, 0]\n"
    )
    (folder / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "empty.yaml").write_text("")
    two = "segments:\n  - move: orbit\n    frames: 2\n"
    (folder / "precise_fps.yaml").write_text('fps: "999.99999999999"\n' + two)  # a 10^11 denominator
    (folder / "slow_fps.yaml").write_text('fps: "1/3600"\n' + two)  # two hours
    frames = [
        {"file_path": f"f{i}.png", "transform_matrix": np.eye(4).tolist()} for i in range(2)
    ]  # identity poses (OpenGL axes)
    (folder / "transforms.json").write_text(
        json.dumps({"fl_x": 40.0, "fl_y": 40.0, "cx": 16, "cy": 12, "w": 32, "h": 24, "frames": frames})
    )


class _Hang(BaseException):
    """Raised by the alarm: not an Exception, so no ``except Exception`` swallows it."""


def _alarm(signum, frame) -> None:
    raise _Hang()


@contextlib.contextmanager
def _quiet_fds():
    """Native libraries' own output (x264's log) off the terminal while a case runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_case(case: Case, tmp: Path) -> dict:
    """Run one case in this process; what happened."""
    argv = [word.replace("{tmp}", str(tmp)) for word in case.argv]
    out, err = io.StringIO(), io.StringIO()
    result: dict = {"exit": None, "exception": None}
    start = time.perf_counter()
    signal.alarm(ALARM_S)
    try:
        with _quiet_fds(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            stillcam_main(argv)
    except SystemExit as exc:
        result["exit"] = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except _Hang:
        result["exception"] = "hang"
    except BaseException as exc:  # a traceback: what the probe looks for
        result["exception"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        result["where"] = traceback.format_exc().strip().splitlines()[-3][:200]
    finally:
        signal.alarm(0)
    result["seconds"] = round(time.perf_counter() - start, 3)
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    result["stderr"] = [line.replace(str(tmp), "{tmp}")[:300] for line in lines[-3:]]
    result["lines"] = lines
    shutil.rmtree(tmp / "out", ignore_errors=True)
    (tmp / "out").mkdir()
    return result


def verdict(case: Case, result: dict) -> str:
    """``traceback``, ``hang``, ``bad accepted``, ``multi-line``, ``valid refused`` or ``pass``."""
    if result["exception"] == "hang":
        return "hang"
    if result["exception"] is not None or result["exit"] not in (0, 1, 2):
        return "traceback"
    if result["exit"] == 0:
        return "bad accepted" if case.expect == "fail" else "pass"
    errors = [line for line in result["lines"] if not line.startswith("stillcam: warning:")]
    if len(errors) != 1 or not errors[0].startswith("stillcam: error:"):
        return "multi-line"
    return "valid refused" if case.expect == "ok" else "pass"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 7th case")
    args = parser.parse_args()
    cases = all_cases()
    if args.quick:
        cases = cases[::7]
    signal.signal(signal.SIGALRM, _alarm)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    verdicts: Counter[str] = Counter()
    findings: list[dict] = []
    groups: dict[str, Counter[str]] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="probe-cli-") as folder:
        tmp = Path(folder)
        make_inputs(tmp)
        cwd = Path.cwd()
        os.chdir(tmp)
        try:
            for i, case in enumerate(cases):
                result = run_case(case, tmp)
                what = verdict(case, result)
                verdicts[what] += 1
                groups.setdefault(case.group, Counter())[what] += 1
                if what != "pass":
                    findings.append(
                        {
                            "verdict": what,
                            "group": case.group,
                            "argv": [w[:120] for w in case.argv],
                            "expect": case.expect,
                            "exit": result["exit"],
                            "exception": result["exception"],
                            "where": result.get("where"),
                            "stderr": result["stderr"],
                            "seconds": result["seconds"],
                        }
                    )
                if (i + 1) % 100 == 0:
                    print(f"{i + 1}/{len(cases)} cases, {time.perf_counter() - start:.0f} s", file=sys.stderr)
        finally:
            os.chdir(cwd)
    wall = time.perf_counter() - start
    expects = Counter(c.expect for c in cases)
    counts = f"{expects['fail']} must fail, {expects['ok']} valid, {expects['any']} either"
    print(f"\n{len(cases)} CLI cases ({counts})")
    print(f"in {wall:.0f} s\n")
    order = ["traceback", "hang", "bad accepted", "multi-line", "valid refused", "pass"]
    print(f"{'verdict':16} {'cases':>6}")
    for what in order:
        print(f"{what:16} {verdicts[what]:6d}")
    print(f"\n{'group':22} " + " ".join(f"{w[:10]:>10}" for w in order))
    for group, counts in sorted(groups.items()):
        print(f"{group[:22]:22} " + " ".join(f"{counts[w]:10d}" for w in order))
    for finding in findings:
        if finding["verdict"] != "pass":
            shown = " ".join(finding["argv"][8:] if finding["argv"][:1] == ["render"] else finding["argv"])
            print(f"\n{finding['verdict']}: {shown[:160]}\n    {finding['exception'] or finding['stderr']}")
    path = save_results(
        "probe_cli",
        {
            "cases": len(cases),
            "expected": dict(expects),
            "wall_s": round(wall, 1),
            "verdicts": {what: verdicts[what] for what in order},
            "groups": {group: dict(counts) for group, counts in sorted(groups.items())},
            "findings": findings,
        },
    )
    print(f"\nwrote {path.relative_to(Path(__file__).resolve().parent.parent)}")


if __name__ == "__main__":
    main()
