"""The bounds of the options, and the one-line checks the option sections make with them.

Every option is checked when its section is made (``ShotSettings``, ``DepthSettings``, ...,
each in its ``__post_init__``), before any file is read: numbers must be finite and inside
their range, integers whole and inside theirs, and each message names the option, the value
given and the range to give instead (``--duration inf: give seconds in (0, 3600]``).

The output frame's limits (``--size``, and ``--size source`` once the photo is known):

* sides of :data:`MIN_SIDE` to :data:`MAX_SIDE` pixels: 16384 is the widest frame libx264
  and libx265 encode (and the largest framebuffer of common GPUs); 16 is a macroblock, so
  every codec and the motion-safety proxy have a frame to work on;
* at most :data:`MAX_SAMPLES` rendered samples per frame (width x height x supersample²):
  134 MP, what the cpu renderer holds in about 6.4 GB (48 bytes a sample: front and back
  layers, colour, coverage, depth). Every photo the loaders accept (100 MP) renders at its
  own size; UHD renders at ``--supersample 4``, 8K at 2.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from typing import Any, Literal, get_args, get_origin

from .errors import InputError

#: Narrowest and widest side of an output frame, in pixels.
MIN_SIDE = 16
MAX_SIDE = 16384
#: Rendered samples per frame at most: width x height x supersample².
MAX_SAMPLES = 2**27
#: Longest text option read, in characters (as long as the longest move expression).
MAX_TEXT = 10_000
#: Most items of a repeatable option (``--set``, ``--pass``).
MAX_ITEMS = 256


def shown(value: Any) -> str:
    """A value as a message shows it: numbers short (``1e+308``, ``nan``), text quoted."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, numbers.Integral):
        digits = str(int(value))
        return digits if len(digits) <= 20 else f"{float(value):g}"
    return f"{float(value):g}"


def _repr(value: Any) -> str:
    """``repr`` of a value of the wrong type, shortened (the type shows: ``8.0``, ``'8'``)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def interval(low: float, high: float, *, open_low: bool = False, open_high: bool = False) -> str:
    """``(0, 3600]``-style text of a range."""
    return f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"


def check_number(
    option: str,
    value: Any,
    low: float,
    high: float,
    *,
    what: str,
    note: str = "",
    open_low: bool = False,
    open_high: bool = False,
    error: type[InputError] = InputError,
) -> float:
    """``value`` as a float when it is a finite number in the range; else ``error`` naming
    ``option`` (``--near nan: give metres in (0, 1e+09)``).

    Args:
        what: what to give, e.g. ``"seconds"``, ``"metres"``.
        note: said after the range in parentheses (``"0 = auto"``).
        open_low, open_high: whether the range excludes its ends.
    """
    number = value if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    number = float(number)
    inside = (
        math.isfinite(number)
        and (low < number if open_low else low <= number)
        and (number < high if open_high else number <= high)
    )
    if not inside:
        span = interval(low, high, open_low=open_low, open_high=open_high)
        raise error(f"{option} {shown(value)}: give {what} in {span}{f' ({note})' if note else ''}")
    return number


def check_integer(
    option: str,
    value: Any,
    low: int,
    high: int,
    *,
    what: str,
    note: str = "",
    error: type[InputError] = InputError,
) -> int:
    """``value`` when it is a whole number in ``low..high``; else ``error`` naming ``option``
    (``--stride -1: give pixels in 0..1024``)."""
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not whole or not low <= int(value) <= high:
        raise error(f"{option} {shown(value)}: give {what} in {low}..{high}{f' ({note})' if note else ''}")
    return int(value)


def check_text(
    option: str, value: Any, *, limit: int = MAX_TEXT, error: type[InputError] = InputError
) -> str:
    """``value`` when it is text of at most ``limit`` characters without control characters."""
    if not isinstance(value, str):
        raise error(f"{option} {_repr(value)}: expected text")
    if len(value) > limit:
        raise error(f"{option}: {len(value)} characters; give at most {limit}")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise error(f"{option} {shown(value)}: contains control characters")
    return value


def check_frame_size(width: int, height: int, option: str, *, supersample: int = 1) -> None:
    """Refuse an output frame outside the limits (module docstring).

    Raises:
        InputError: saying which limit, and what to give instead.
    """
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise InputError(
            f"{option}: each side of a frame must be {MIN_SIDE}..{MAX_SIDE} px; give a --size within that"
        )
    samples = width * height * supersample**2
    if samples > MAX_SAMPLES:
        at = f" at --supersample {supersample}" if supersample > 1 else ""
        raise InputError(
            f"{option}: {width}x{height}{at} is {samples / 1e6:.0f} MP of samples a frame; at most "
            f"{MAX_SAMPLES / 1e6:.0f} MP (width x height x supersample squared): give a smaller "
            "--size or --supersample"
        )


def option_flag(f: dataclasses.Field) -> str:
    """The command-line flag of an option field (``--stride``; ``--set`` for ``params``)."""
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


@functools.cache
def _hints(section: type) -> dict[str, Any]:
    return typing.get_type_hints(section)


def check_fields(section: Any, *, choices_later: tuple[str, ...] = ()) -> None:
    """Check that every field of an option section (a frozen dataclass) has its declared
    type, and normalise the harmless differences in place: an integer for a float, a list for
    a tuple, numpy scalars. Called first by each section's ``__post_init__``, so that the
    range checks after it only see typed values, whoever made the section (the command line,
    a recipe, the web app, Python code).

    ``choices_later`` names fields of fixed choices whose value the section checks later
    with a message of its own (only their type is checked here).

    Raises:
        InputError: the first field of the wrong type, named by its flag.
    """
    hints = _hints(type(section))
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        hint = hints[f.name]
        if f.name in choices_later and get_origin(hint) is Literal:
            hint = type(get_args(hint)[0])
        typed = _typed(hint, value, option_flag(f))
        if typed is not value:
            object.__setattr__(section, f.name, typed)


def _typed(hint: Any, value: Any, option: str) -> Any:
    """``value`` as type ``hint`` (see :func:`check_fields`)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _typed(inner, value, option)
    if origin is Literal:
        for choice in args:
            if type(value) is type(choice) and value == choice:
                return choice
        choices = ", ".join(str(c) for c in args)
        raise InputError(f"{option} {_repr(value)}: choose one of {choices}")
    if origin is tuple:
        return _typed_tuple(args, value, option)
    return _typed_scalar(hint, value, option)


def _typed_scalar(hint: Any, value: Any, option: str) -> Any:
    """``value`` as a bool, int, float or str (:func:`_typed`)."""
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"{option} {_repr(value)}: expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InputError(f"{option} {_repr(value)}: expected a whole number")
        return value if type(value) is int else int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(f"{option} {_repr(value)}: expected a number")
        return value if type(value) is float else float(value)
    if hint is str:
        return check_text(option, value)
    raise TypeError(f"option {option}: no check for type {hint!r}")  # pragma: no cover - a new field type


def _typed_tuple(args: tuple[Any, ...], value: Any, option: str) -> tuple[Any, ...]:
    """``value`` as a ``tuple[args]`` (:func:`_typed`): a repeatable option or a fixed triple."""
    if not isinstance(value, (tuple, list)):
        raise InputError(f"{option} {_repr(value)}: expected a list of values")
    if len(args) == 2 and args[1] is Ellipsis:
        if len(value) > MAX_ITEMS:
            raise InputError(f"{option}: given {len(value)} times; give it at most {MAX_ITEMS} times")
        return tuple(_typed(args[0], item, option) for item in value)
    if len(value) != len(args):
        raise InputError(f"{option} {_repr(value)}: expected {len(args)} values")
    return tuple(_typed(a, item, option) for a, item in zip(args, value, strict=True))
