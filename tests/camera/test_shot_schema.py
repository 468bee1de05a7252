"""Shot files and move expressions against damaged and hostile input: only :class:`MoveError`
(one line, naming the field), never a traceback, a hang or an allocation of the bad size;
valid shots round-trip exactly through JSON and YAML."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stillcam.camera import MOVES, Camera, MoveContext
from stillcam.camera.plan import ShotSettings
from stillcam.camera.shot import (
    MAX_FRAMES,
    MAX_SHOT_FILE_BYTES,
    Shot,
    build_shot_path,
    parse_move_expression,
    read_shot_file,
    shot_from_dict,
    shot_text,
    shot_timing,
    shot_to_dict,
)
from stillcam.errors import MoveError, StillcamError
from stillcam.io.structured import parse_text
from structured_corpus import (
    assert_one_line,
    damaged_bytes,
    json_like,
    mutated,
    special_files,
    wrong_types,
    yaml_bombs,
)

CTX = MoveContext(Camera.from_focal_mm(32, 18, 35.0), 5.0)
FPS = Fraction(24)
VALID_SEGMENTS = {
    "fps": "24000/1001",
    "first_frame": 1001,
    "easing": "ease-out",
    "lens": {"focal_mm": 35.0},
    "segments": [
        {"move": "dolly-in", "params": {"fraction": 0.2}, "duration": 1.5, "easing": [0.42, 0, 0.58, 1]},
        {"move": "pan", "params": {"degrees": 15}, "frames": 12, "layers": [{"move": "handheld"}]},
    ],
    "layers": [{"move": "roll", "params": {"degrees": 2.0}}],
}
VALID_KEYS = {
    "interpolation": {"position": "linear"},
    "keyframes": [
        {"frame": 1001, "position": [0, 0, 0], "focal_mm": 35},
        {"frame": 1013, "position": [0.1, 0, 0.5], "look_at": [0, 0, 5], "easing": "ease-in"},
        {"time": 1.0, "position": [0.2, 0, 0.6], "rotation": [5, 0, 0]},
        {"frame": 1040, "position": [0.3, 0, 0.7], "quaternion": [1, 0, 0.05, 0]},
    ],
}
SHOT_KEYS = sorted(
    {"segments", "keyframes", "layers", "lens", "interpolation", "fps", "first_frame", "duration"}
    | {"easing", "stillcam_shot", "move", "params", "frames", "time", "position", "look_at", "rotation"}
    | {"quaternion", "focal_mm", "filmback_mm", "degrees", "fraction", "seed"}
)


def _shot_error(data) -> MoveError:
    with pytest.raises(MoveError) as caught:
        shot_from_dict(data, "shot.json")
    assert_one_line(caught.value, names="shot.json")
    return caught.value


def _file_error(path: Path) -> MoveError:
    with pytest.raises(MoveError) as caught:
        read_shot_file(path)
    assert_one_line(caught.value, names=str(path))
    return caught.value


def _only_typed(data) -> None:
    """``data`` is refused with a MoveError, or it is a shot whose timing and (when short)
    cameras can be worked out, each raising only a typed error."""
    try:
        shot = shot_from_dict(data, "shot")
    except MoveError as exc:
        assert_one_line(exc)
        return
    try:
        timing = shot_timing(shot, fps=FPS, duration_s=1.0)
        if timing.frames <= 120:
            build_shot_path(shot, CTX, fps=FPS, duration_s=1.0)
    except StillcamError as exc:
        assert_one_line(exc)


# --- the cases -------------------------------------------------------------------


def test_the_valid_examples_are_shots():
    assert len(build_shot_path(shot_from_dict(VALID_SEGMENTS), CTX, fps=FPS)) > 12
    assert len(build_shot_path(shot_from_dict(VALID_KEYS), CTX, fps=FPS)) == 40


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"segments": [{"move": "pan", "frames": 10**9}]}, r"segments.0.frames: must be <= 100000"),
        ({"segments": [{"move": "pan", "frames": 0}]}, r"segments.0.frames: must be >= 1 \(got 0\)"),
        ({"segments": [{"move": "pan", "frames": 2.5}]}, r"segments.0.frames: must be a whole number"),
        ({"segments": [{"move": "pan", "frames": "many"}]}, r"segments.0.frames: must be an integer"),
        ({"segments": [{"move": "pan", "duration": -1}]}, r"segments.0.duration: must be > 0"),
        ({"segments": [{"move": "pan", "duration": 1e9}]}, r"segments.0.duration: must be <= 3600"),
        ({"segments": [{"move": "pan", "duration": float("nan")}]}, r"segments.0.duration: must be a finite"),
        (
            {"segments": [{"move": "pan", "params": {"degrees": float("inf")}}]},
            r"params.degrees: must be a fin",
        ),
        ({"segments": [{"move": "pan", "params": {"degrees": None}}]}, r"parameter degrees has no value"),
        ({"segments": [{"move": "pan", "easing": [1, 2]}]}, r"segments.0.easing: must be text"),
        ({"segments": [{"move": "x" * 500}]}, r"segments.0.move: must be at most 64 characters"),
        ({"segments": {"move": "pan"}}, r"segments: must be a list"),
        ({"segments": [5]}, r"segments.0: must be an object"),
        ({"segments": [{"move": "pan", "frames": 60000}] * 2}, r"at most 100000 frames"),
        ({"segments": [{"move": "pan"}], "duration": 7200}, r"duration: must be <= 3600"),
        ({"segments": [{"move": "pan"}], "first_frame": -1}, r"first_frame: must be >= 0"),
        ({"segments": [{"move": "pan"}], "fps": 0}, r"shot fps: fps 0 is out of range"),
        ({"segments": [{"move": "pan"}], "fps": float("nan")}, r"shot fps"),
        ({"segments": [{"move": "pan"}], "lens": {"focal_mm": -5}}, r"lens.focal_mm: must be >= 1"),
        (
            {"segments": [{"move": "pan"}], "lens": {"filmback_mm": [0, 24]}},
            r"lens.filmback_mm.0: must be > 0",
        ),
        ({"keyframes": [{"frame": 1001, "position": [1e300, 0, 0]}]}, r"keyframes.0.position.0: must be <="),
        (
            {"keyframes": [{"frame": 1001, "position": [0, 0, float("nan")]}]},
            r"keyframes.0.position.2: must be",
        ),
        ({"keyframes": [{"frame": -3}]}, r"keyframes.0.frame: must be >= 0"),
        ({"keyframes": [{"time": 1e12}]}, r"keyframes.0.time: must be <= 3600"),
        ({"keyframes": [{"frame": 1, "quaternion": [0, 0, 0, 0]}]}, r"quaternion must not be zero"),
        ({"keyframes": [{"frame": 1, "look_at": [0, -5, 0]}]}, r"straight above or below"),
        (
            {"keyframes": [{"frame": 1}, {"frame": 5}], "stillcam_shot": "one"},
            r"stillcam_shot: must be an int",
        ),
        ([1, 2, 3], r"top level: must be an object"),
        (None, r"top level: must be an object"),
    ],
)
def test_bad_shot_content_is_located_on_one_line(data, words):
    message = str(_shot_error(data))
    assert re.search(words, message), message


def test_frames_are_bounded_by_count_and_by_an_hour_at_the_shots_fps():
    with pytest.raises(MoveError, match="at most 100000 frames and 3600 s"):
        keys = {"first_frame": 0, "keyframes": [{"frame": 0}, {"frame": 10**7}]}
        shot_timing(shot_from_dict(keys), fps=FPS)
    at_one_fps = shot_from_dict({"fps": "1", "segments": [{"move": "pan", "frames": 4000}]})
    with pytest.raises(MoveError, match="4000 frames \\(4000 s at 1 fps\\)"):
        shot_timing(at_one_fps, fps=FPS)
    ok = shot_from_dict({"fps": "30", "segments": [{"move": "pan", "frames": MAX_FRAMES}]})
    assert shot_timing(ok, fps=FPS).frames == MAX_FRAMES  # counted, not sampled


def test_deep_nesting_fails_at_once_with_one_line(tmp_path):
    for suffix, content in (
        (".json", "[" * 100_000 + "]" * 100_000),
        (".yaml", "[" * 100_000 + "]" * 100_000),
    ):
        file = tmp_path / f"deep{suffix}"
        file.write_text(content)
        assert "nested more than 64 levels deep" in str(_file_error(file))
    middle = tmp_path / "middle.json"  # parses, then refused by the shape check
    middle.write_text("[" * 100 + "]" * 100)
    assert "nested more than 64" in str(_file_error(middle))


def test_a_shot_file_says_which_syntax_it_was_read_as(tmp_path):
    for name, words in (
        (
            "shot.txt",
            "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2); "
            "read as JSON as the name ends in neither .yaml nor .yml",
        ),
        ("shot.json", "not valid JSON (Expecting property name"),
        ("shot.YML", "not valid YAML ("),
    ):
        file = tmp_path / name
        file.write_text("{bad: [")
        message = str(_file_error(file))
        assert words in message, message
    assert "read as JSON" not in str(_file_error(tmp_path / "shot.json"))
    (tmp_path / "shot.data").write_text(json.dumps(VALID_SEGMENTS))
    assert read_shot_file(tmp_path / "shot.data") == shot_from_dict(VALID_SEGMENTS)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("", "cannot read ''"),
        ("   ", "cannot read ''"),
        ("orbit(degrees=5,,)", "an empty item in orbit(...); remove the extra comma"),
        ("orbit(degrees=5,)", "an empty item"),
        ("orbit(,degrees=5)", "an empty item"),
        ("orbit(degrees=5, degrees=6)", "degrees is given twice in orbit(...)"),
        ("orbit(degrees=5, degrees=5)", "given twice"),
        ("pan(frames=2, frames=3)", "frames is given twice"),
        ("orbit(degrees=)", "degrees= has no value"),
        ("orbit(=5)", "'=5' is not KEY=VALUE"),
        ("orbit(degrees=none)", "parameter degrees has no value; give a number in deg"),
        ("pan(frames=0)", "segments.0.frames: must be >= 1"),
        ("pan(frames=1000000000)", "segments.0.frames: must be <= 100000"),
        ("pan(duration=1e400)", "segments.0.duration: must be a finite number"),
        ("pan(duration=nan)", "segments.0.duration: must be a finite number"),
        ("pan(frames=" + "9" * 5000 + ")", "is not a number"),
        ("pan then " * 2000 + "pan", "characters; a move expression has at most 10000"),
    ],
)
def test_bad_move_expressions_fail_on_one_line(expression, words):
    with pytest.raises(MoveError) as caught:
        parse_move_expression(expression)
    assert words in str(caught.value), str(caught.value)
    assert_one_line(caught.value, names="--move")


def test_set_without_a_value_is_refused_before_any_work():
    with pytest.raises(MoveError, match="parameter degrees has no value"):
        ShotSettings(move="orbit", params=("degrees=",))
    assert ShotSettings(move="dolly-in", params=("distance=none",)).move_shot is not None
    assert parse_move_expression("orbit()") == parse_move_expression("orbit")


# --- a corpus of damaged files -----------------------------------------------------------


@pytest.mark.parametrize(("suffix", "valid"), [(".json", VALID_SEGMENTS), (".yaml", VALID_KEYS)])
def test_damaged_shot_files_raise_only_typed_one_line_errors(tmp_path, suffix, valid):
    source = shot_text(shot_from_dict(valid), suffix).encode()
    assert read_shot_file(_written(tmp_path / f"valid{suffix}", source)) == shot_from_dict(valid)
    corpus = list(damaged_bytes(source, seed=len(suffix)))
    if suffix == ".yaml":
        corpus += list(yaml_bombs())
    for k, (name, content) in enumerate(corpus):
        file = _written(tmp_path / f"{k}-{name}{suffix}", content)
        try:
            read_shot_file(file)
        except MoveError as exc:
            assert_one_line(exc, names=str(file))


def test_wrong_types_at_every_field_are_located(tmp_path):
    for valid in (VALID_SEGMENTS, VALID_KEYS):
        for _name, data in wrong_types(valid):
            _only_typed(data)


def test_special_files_are_refused_without_reading_or_blocking(tmp_path):
    for name, path in special_files(tmp_path, larger_than=MAX_SHOT_FILE_BYTES):
        message = str(_file_error(path))
        expected = {
            "fifo": "is a FIFO, not a regular file; give a shot file",
            "dev-zero": "is a character device, not a regular file",
            "folder": "is a folder, not a regular file",
            "too-large": "more than a shot file may have (4 MiB)",
            "dangling-symlink": "no such shot file",
        }[name]
        assert expected in message, message


def test_yaml_aliases_cannot_multiply_a_small_file(tmp_path):
    bombs = dict(yaml_bombs())
    laughs = _written(tmp_path / "laughs.yaml", bombs["billion-laughs"])
    assert "values; not a shot file" in str(_file_error(laughs))
    loop = _written(tmp_path / "loop.yaml", bombs["self-alias"])
    assert "nested more than 64 levels" in str(_file_error(loop))
    python = _written(tmp_path / "tag.yaml", bombs["python-tag"])
    assert "not valid YAML" in str(_file_error(python))


def _written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=700, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like(SHOT_KEYS))
def test_arbitrary_data_gives_a_shot_or_a_move_error(data):
    _only_typed(data)
    _only_typed({"segments": data})
    _only_typed({"keyframes": data})


@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([VALID_SEGMENTS, VALID_KEYS]).flatmap(lambda v: mutated(v, SHOT_KEYS)))
def test_damaged_valid_shots_give_a_shot_or_a_move_error(data):
    _only_typed(data)


PIECES = ["pan", "orbit", "dolly-in", "handheld", "(", ")", ",", "=", " then ", "+", "degrees", "frames"]


@settings(max_examples=600, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=12).map("".join))
def test_arbitrary_move_expressions_give_segments_or_a_move_error(expression):
    try:
        segments = parse_move_expression(expression)
    except MoveError as exc:
        assert_one_line(exc, names="--move")
        return
    assert segments and all(s.move in MOVES for s in segments)


def _param_value(draw, param) -> float | None:
    if param.default is None:  # optional: distance in metres, to_mm a focal length
        low, high = max(getattr(param, "low", 0.5), 0.5), min(getattr(param, "high", 2.0), 2.0)
        return draw(st.none() | st.floats(low, high))
    if param.name == "seed":
        return float(draw(st.integers(0, 1000)))
    return param.default * draw(st.floats(0.5, 1.5))


easings = st.sampled_from(["linear", "ease-in", "ease-out", "ease-in-out"]) | st.tuples(
    st.floats(0, 1), st.floats(-1, 2), st.floats(0, 1), st.floats(-1, 2)
).map(lambda h: "bezier(" + ",".join(repr(v) for v in h) + ")")


@st.composite
def steps(draw, segment: bool):
    name = draw(st.sampled_from(sorted(MOVES)))
    params = {p.name: _param_value(draw, p) for p in MOVES[name].params if draw(st.booleans())}
    step = {"move": name, "params": params, "easing": draw(st.none() | easings)}
    if segment:
        length = draw(st.sampled_from(["frames", "duration", None]))
        if length == "frames":
            step["frames"] = draw(st.integers(1, 40))
        elif length == "duration":
            step["duration"] = draw(st.floats(0.05, 2.0))
        step["layers"] = draw(st.lists(steps(False), max_size=1))
    return step


@st.composite
def keys(draw):
    frames = draw(st.lists(st.integers(1, 20), min_size=1, max_size=4))
    result, at = [], 1001
    for gap in frames:
        at += gap
        key = {"frame": at, "position": draw(st.tuples(*[st.floats(-5, 5)] * 3))}
        pose = draw(st.sampled_from(["rotation", "quaternion", "focal", None]))
        if pose == "rotation":
            key["rotation"] = draw(st.tuples(*[st.floats(-90, 90)] * 3))
        elif pose == "quaternion":
            key["quaternion"] = (1.0, *draw(st.tuples(*[st.floats(-0.5, 0.5)] * 3)))
        elif pose == "focal":
            key["focal_mm"] = draw(st.floats(10, 200))
        key["easing"] = draw(easings)
        result.append(key)
    return result


@st.composite
def valid_shots(draw) -> Shot:
    data: dict = {}
    if draw(st.booleans()):
        data["segments"] = draw(st.lists(steps(True), min_size=1, max_size=3))
    else:
        data["keyframes"] = draw(keys())
        data["first_frame"] = 1001
        data["interpolation"] = {"position": draw(st.sampled_from(["catmull-rom", "linear"]))}
    data["layers"] = draw(st.lists(steps(False), max_size=1))
    if draw(st.booleans()):
        data["fps"] = draw(st.sampled_from(["24", "25", "24000/1001", "30000/1001"]))
    if draw(st.booleans()):
        data["lens"] = {"focal_mm": draw(st.floats(12, 300))}
    return shot_from_dict(data)


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_shots())
def test_valid_shots_round_trip_through_json_and_yaml(shot):
    assert shot_from_dict(shot_to_dict(shot)) == shot
    for suffix in (".json", ".yaml"):
        text = shot_text(shot, suffix)
        assert shot_from_dict(parse_text(text, "yaml" if suffix == ".yaml" else "json")) == shot
    assert shot_from_dict(yaml.safe_load(shot_text(shot, ".yml"))) == shot
    timing = shot_timing(shot, fps=FPS, duration_s=10.0)  # room for the segments' own lengths
    assert len(build_shot_path(shot, CTX, fps=FPS, duration_s=10.0)) == timing.frames


def test_without_libyaml_the_python_loader_bounds_nesting_too(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    deep = _written(tmp_path / "deep.yaml", b"[" * 5000 + b"]" * 5000)
    assert "nested more than 64 levels deep" in str(_file_error(deep))
    valid = _written(tmp_path / "valid.yaml", shot_text(shot_from_dict(VALID_KEYS), ".yaml").encode())
    assert read_shot_file(valid) == shot_from_dict(VALID_KEYS)
