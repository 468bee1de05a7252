"""Property tests of the option parser (hypothesis, derandomised): whatever values a command
line, a recipe or Python code gives, making the options raises nothing but a
:class:`~stillcam.errors.StillcamError`; what it accepts lies inside the documented bounds and
survives a round trip through a recipe and through the command line."""

from __future__ import annotations

import dataclasses
import math
import shlex
import typing
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stillcam.bounds import MAX_SAMPLES, MAX_SIDE, MIN_SIDE
from stillcam.camera.moves import MOVES
from stillcam.camera.shot import MAX_FRAMES, shot_timing
from stillcam.cli import build_parser, options_from
from stillcam.errors import StillcamError
from stillcam.options import SECTIONS, RenderOptions, command_line, flag
from stillcam.output.codecs import CODECS

FIELDS = {f.name: f for section in SECTIONS.values() for f in dataclasses.fields(section)}
HINTS = {name: hint for section in SECTIONS.values() for name, hint in typing.get_type_hints(section).items()}
FLAGS = sorted({flag(f) for f in FIELDS.values()})
PARSER = build_parser()
QUICK = settings(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ----------------------------------------------------------------------------------------
# Values


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10.0, 10.0),
    st.integers(-(10**30), 10**30),
    st.integers(-5, 100),
    st.sampled_from([0, 1, 8, 16, 24, 51, 64, 1000, 1024, 3600, 100_000, 10_000_000, 2**31]),
)
number_text = numbers.map(lambda v: repr(v) if isinstance(v, float) else str(v))
pixels = st.integers(-5, 40_000) | st.sampled_from([MIN_SIDE, MAX_SIDE, MAX_SIDE + 1, 8192, 16_385])
sizes = st.one_of(
    st.tuples(st.integers(MIN_SIDE, 4096), st.integers(MIN_SIDE, 4096)).map(lambda wh: f"{wh[0]}x{wh[1]}"),
    st.tuples(pixels, pixels).map(lambda wh: f"{wh[0]}x{wh[1]}"),
    st.sampled_from(["HD", "UHD", "DCI4K", "source", "hd", "", "x", "-5x3", "32x24x2", "1.5x2"]),
)
fps_text = st.one_of(
    st.integers(1, 1000).map(str),
    number_text,
    st.tuples(st.integers(-5, 10**7), st.integers(-5, 10**7)).map(lambda f: f"{f[0]}/{f[1]}"),
    st.sampled_from(["24", "23.976", "24000/1001", "1/3600", "1/3601", "999.99999999999", "-inf", ""]),
)
move_names = st.sampled_from([*MOVES, "bogus", "", "ORBIT"])
param_names = st.sampled_from(
    [
        *sorted({p.name for spec in MOVES.values() for p in spec.params}),
        "duration",
        "frames",
        "easing",
        "x",
        "",
    ]
)
param_values = st.one_of(number_text, st.sampled_from(["", "none", "abc", "linear", "1e308", "nan", "-inf"]))
terms = st.builds(
    lambda name, items: name + ("(" + ", ".join(f"{k}={v}" for k, v in items) + ")" if items else ""),
    move_names,
    st.lists(st.tuples(param_names, param_values), max_size=3),
)


@st.composite
def valid_terms(draw: st.DrawFn) -> str:
    """A move with some of its parameters, each anywhere in its range (ends included)."""
    spec = MOVES[draw(st.sampled_from(sorted(MOVES)))]
    chosen = draw(st.lists(st.sampled_from(spec.params), max_size=3, unique=True)) if spec.params else []
    items = []
    for param in chosen:
        value = draw(
            st.integers(int(param.low), int(param.high))
            if param.integer
            else st.floats(param.low, param.high) | st.sampled_from([param.low, param.high])
        )
        items.append(f"{param.name}={value!r}")
    return spec.name + (f"({', '.join(items)})" if items else "")


valid_expressions = st.lists(
    st.lists(valid_terms(), min_size=1, max_size=2).map(" + ".join), min_size=1, max_size=2
).map(" then ".join)
expressions = st.one_of(
    valid_expressions,
    st.lists(st.lists(terms, min_size=1, max_size=2).map(" + ".join), min_size=1, max_size=3).map(
        " then ".join
    ),
    st.text(max_size=40),
)
easings = st.one_of(
    st.sampled_from(["linear", "ease-in", "ease-out", "ease-in-out", "bogus", ""]),
    st.lists(number_text, min_size=3, max_size=5).map(lambda v: f"bezier({','.join(v)})"),
)
texts = st.one_of(st.text(max_size=30), number_text, st.sampled_from(["", " ", "nan", "\x00", "é", "-1"]))
#: Per field: values of the right type and around the bounds (plus any text).
FIELD_VALUES: dict[str, Any] = {
    "move": expressions | st.none(),
    "params": st.lists(st.builds(lambda k, v: f"{k}={v}", param_names, param_values), max_size=3),
    "size": sizes,
    "fps": fps_text,
    "easing": easings,
    "frames": st.tuples(st.integers(-5, 2000), st.integers(-5, 2000)).map(lambda ab: f"{ab[0]}-{ab[1]}")
    | texts
    | st.none(),
    "target": st.tuples(numbers, numbers).map(lambda xy: f"{xy[0]},{xy[1]}") | texts | st.none(),
    "timecode": st.sampled_from(["", "01:00:00:00", "99:99:99:99", "1:00", "01:00:00;00"]) | texts,
    "passes": st.lists(st.sampled_from(["depth", "coverage", "bogus", ""]), max_size=3),
    "matte": st.lists(numbers, min_size=2, max_size=4),
    "fill": st.sampled_from(["telea", "ns", "propagate", "nearest", "patch", "none", "lama", "bogus", ""]),
    "outpaint": st.sampled_from(["propagate", "nearest", "telea", "none", "lama", "bogus"]),
}


def _typed_values(name: str) -> st.SearchStrategy:
    """Values of the field's own type (and near it) for a field without its own strategy."""
    if name in FIELD_VALUES:
        return FIELD_VALUES[name]
    hint = HINTS[name]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    optional = type(None) in args
    if optional:
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        base = st.sampled_from([*args, "bogus", 12])
    elif hint is bool:
        base = st.booleans()
    elif hint in (int, float):
        base = numbers
    else:
        base = texts
    return base | st.none() if optional else base


#: Anything a JSON body or Python code might hold.
anything = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def option_fields(draw: st.DrawFn, wild: bool = False) -> dict[str, Any]:
    """A few option fields with values of their type (``wild``: sometimes of any type)."""
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=5, unique=True))
    values = {}
    for name in names:
        strategy = _typed_values(name)
        values[name] = draw(strategy | anything) if wild else draw(strategy)
    return values


# ----------------------------------------------------------------------------------------
# Properties


def _build(values: dict[str, Any]) -> RenderOptions | None:
    try:
        return RenderOptions.from_fields(values)
    except StillcamError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
        return None


def _within_bounds(options: RenderOptions) -> None:
    """What made options hold: every number finite and inside its documented range."""
    shot = options.shot
    assert 0 < shot.duration <= 3600 and 0 <= shot.first_frame <= 10_000_000
    assert 0 < shot.frame_rate <= 1000 and shot.frame_rate.denominator <= 1_000_000
    if shot.size_px is not None:
        width, height = shot.size_px
        assert MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE
        assert width * height * options.render.supersample**2 <= MAX_SAMPLES
    if shot.move_shot is not None:
        timing = shot_timing(shot.move_shot, fps=shot.frame_rate, duration_s=shot.duration)
        assert 1 <= timing.frames <= MAX_FRAMES
        for segment in shot.move_shot.segments:
            for step in (segment, *segment.layers):
                spec = MOVES[step.move]
                for param in spec.params:
                    value = step.params.get(param.name)
                    assert value is None or param.low <= value <= param.high
    for section in SECTIONS:
        for name, value in dataclasses.asdict(getattr(options, section)).items():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, float):
                    assert math.isfinite(item), (name, value)


@given(option_fields())
@settings(QUICK, max_examples=1500)
def test_typed_fields_give_options_inside_the_bounds_or_one_typed_error(values):
    options = _build(values)
    if options is not None:
        _within_bounds(options)


@given(option_fields(wild=True))
@settings(QUICK, max_examples=1000)
def test_values_of_any_type_give_only_typed_errors(values):
    _build(values)


@given(
    st.dictionaries(st.sampled_from([*SECTIONS, "extra"]), anything | option_fields(), max_size=6) | anything
)
@settings(QUICK, max_examples=500)
def test_recipe_options_of_any_shape_give_only_typed_errors(data):
    try:
        RenderOptions.from_dict(data)
    except StillcamError:
        pass


@given(option_fields())
@settings(QUICK, max_examples=300)
def test_accepted_options_round_trip_through_a_recipe_and_the_command_line(values):
    options = _build(values)
    if options is None or options.output.codec not in CODECS:
        return  # (the codec is checked with the output's extension, before any decoding)
    assert RenderOptions.from_dict(options.to_dict()) == options
    words = shlex.split(command_line(options, "photo.png", "depth.npy", "shot.mp4"))
    assert options_from(PARSER.parse_args(words[1:])) == options


arguments = st.lists(
    st.one_of(
        st.sampled_from(FLAGS),
        number_text,
        texts,
        st.sampled_from(["--no-safe", "--overwrite", "--", "-", "-o", "--help-x", "--siz", "-5x3", "--dur"]),
    ),
    max_size=8,
)


@given(arguments)
@settings(QUICK, max_examples=1000)
def test_any_command_line_words_give_options_or_one_typed_error(words):
    argv = ["render", "photo.png", "-o", "shot.mp4", *words]
    try:
        namespace = PARSER.parse_args(argv)
        _within_bounds(options_from(namespace))
    except StillcamError as exc:
        assert "\n" not in str(exc), str(exc)
    except SystemExit as exc:  # only a help request exits, with 0
        assert exc.code == 0


@given(valid_expressions, st.sampled_from(["24", "25", "24000/1001", "1000"]))
@settings(QUICK, max_examples=500)
def test_every_parameter_value_inside_its_documented_range_is_accepted(expression, fps):
    options = RenderOptions.from_fields({"move": expression, "fps": fps})
    _within_bounds(options)


@st.composite
def out_of_range(draw: st.DrawFn) -> tuple[str, str]:
    """A move with one parameter past its range (or not whole), and that parameter's name."""
    spec = MOVES[draw(st.sampled_from(sorted(name for name, spec in MOVES.items() if spec.params)))]
    param = draw(st.sampled_from(spec.params))
    past = st.floats(param.high, 1e300, exclude_min=True) | st.floats(-1e300, param.low, exclude_max=True)
    value = draw(past | st.just(param.low + 0.5) if param.integer else past)
    return f"{spec.name}({param.name}={value!r})", param.name


@given(out_of_range())
@settings(QUICK, max_examples=500)
def test_every_parameter_value_past_its_range_is_refused_naming_it(case):
    expression, name = case
    try:
        RenderOptions.from_fields({"move": expression})
    except StillcamError as exc:
        assert f"{name}=" in str(exc) and "\n" not in str(exc), str(exc)
    else:
        raise AssertionError(f"{expression} was accepted")
