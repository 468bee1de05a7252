"""Bounded reading of the JSON and YAML files stillcam takes (shot files, camera files, recipes).

A file a user names is read only when it is a regular file no larger than its kind's limit
(``/dev/zero``, a FIFO or a folder is refused at once, without reading or blocking); its text
must be UTF-8; its parsed value may nest at most :data:`MAX_NESTING` levels and hold a
bounded number of values (YAML aliases cannot multiply it). Every failure is one line of the
caller's error type, naming the file. :func:`schema_message` turns pydantic's first
validation error into the same kind of line, naming the field (``segments.0.frames: must be
>= 1``).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import InputError, StillcamError

if TYPE_CHECKING:
    from pydantic import ValidationError

#: Containers inside containers a file may have (stillcam's own files need fewer than 8).
MAX_NESTING = 64
MiB = 1 << 20

Syntax = Literal["json", "yaml"]


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_bytes_bounded(
    path: str | Path, *, what: str, max_bytes: int, error: type[StillcamError] = InputError
) -> bytes:
    """The bytes of ``path``, a regular file of at most ``max_bytes`` bytes.

    The file is opened without blocking (a FIFO cannot hang the reader) and checked on the
    open descriptor, so a file swapped after a check is still caught; at most
    ``max_bytes + 1`` bytes are ever read.

    Raises:
        error: (one line, naming ``path`` and ``what`` it should be) missing, not a regular
            file, too large, unreadable.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        handle = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise error(f"{path}: cannot open the {what} ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: is {_kind(info.st_mode)}, not a regular file; give a {what}")
        if info.st_size > max_bytes:
            raise error(
                f"{path}: {info.st_size:,} bytes, more than a {what} may have ({max_bytes / MiB:g} MiB)"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(handle, True)
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    finally:
        os.close(handle)
    if len(data) > max_bytes:  # grew while it was read
        raise error(f"{path}: more than a {what} may have ({max_bytes / MiB:g} MiB)")
    return data


def _yaml_loader() -> type:
    """libyaml's safe loader (fast, nests at most 1000 levels), else PyYAML's with the same
    bound on nesting (its composer recurses once per level)."""
    import yaml

    if getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader

    class BoundedSafeLoader(yaml.SafeLoader):
        _level = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._level += 1
            try:
                if self._level > MAX_NESTING:
                    mark = self.peek_event().start_mark
                    raise yaml.YAMLError(f"nested more than {MAX_NESTING} levels at line {mark.line + 1}")
                return super().compose_node(parent, index)
            finally:
                self._level -= 1

    return BoundedSafeLoader


def _syntax_problem(exc: Exception) -> str:
    """One line of a JSON or YAML syntax error: what and where."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if problem is None:
        text = str(exc)
    elif mark is not None:
        text = f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    else:
        text = str(problem)
    return " ".join(text.split())[:200]


class NestingError(ValueError):
    """Data nested deeper than allowed (raised by :func:`parse_text` and :func:`check_shape`)."""


def parse_text(text: str, syntax: Syntax) -> Any:
    """Parse JSON or YAML (safe: plain data only) text.

    Raises:
        NestingError: nested far too deep to parse.
        ValueError: bad syntax (the message is one line: what and where).
    """
    try:
        if syntax == "yaml":
            import yaml

            try:
                return yaml.load(text, Loader=_yaml_loader())  # a safe loader: plain data only
            except yaml.YAMLError as exc:
                problem = _syntax_problem(exc)
                if "nesting depth" in problem or "nested more than" in problem:
                    raise NestingError(problem) from None
                raise ValueError(problem) from None
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(_syntax_problem(exc)) from None
    except RecursionError:
        raise NestingError(f"nested more than {MAX_NESTING} levels") from None
    except NestingError:
        raise
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ValueError(" ".join(str(exc).split())[:200]) from None


def check_shape(data: Any, *, max_nodes: int, max_nesting: int = MAX_NESTING) -> None:
    """Refuse parsed data nested deeper than ``max_nesting`` or holding more than ``max_nodes``
    values (counted as a walk sees them, so YAML aliases count every time they are used).

    Raises:
        NestingError: nested too deep.
        ValueError: too many values.
    """
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while stack:
        value, level = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise ValueError(f"more than {max_nodes:,} values")
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, (list, tuple, set, frozenset)):
            children = value
        else:
            continue
        if level >= max_nesting:
            raise NestingError(f"nested more than {max_nesting} levels")
        stack.extend((child, level + 1) for child in children)


def read_structured(
    path: str | Path,
    *,
    what: str,
    syntax: Syntax,
    max_bytes: int,
    error: type[StillcamError] = InputError,
    why: str = "",
) -> Any:
    """The parsed content of a JSON or YAML file, within every bound of this module.

    Args:
        path: the file.
        what: what it should be, for messages (``"shot file"``).
        syntax: how to parse it.
        max_bytes: the largest file accepted.
        error: the error type raised.
        why: appended to a syntax error, e.g. why this syntax was tried.

    Raises:
        error: one line naming ``path``: see :func:`read_bytes_bounded`, not UTF-8, bad
            syntax (which syntax was tried, and where it failed), nested too deep, too many
            values.
    """
    data = read_bytes_bounded(path, what=what, max_bytes=max_bytes, error=error)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); a {what} is {syntax.upper()} text") from None
    deep = f"{path}: nested more than {MAX_NESTING} levels deep; not a {what}"
    try:
        value = parse_text(text, syntax)
    except NestingError:
        raise error(deep) from None
    except ValueError as exc:
        raise error(f"{path}: not valid {syntax.upper()} ({exc}){why}") from None
    try:
        check_shape(value, max_nodes=max(1024, max_bytes // 2))
    except NestingError:
        raise error(deep) from None
    except ValueError as exc:
        raise error(f"{path}: {exc}; not a {what}") from None
    return value


_SIMPLE = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (misspelt?)",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be an object (a {...} of names and values)",
    "model_type": "must be an object (a {...} of names and values)",
    "model_attributes_type": "must be an object (a {...} of names and values)",
    "dataclass_type": "must be an object (a {...} of names and values)",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "none_required": "must be null",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def schema_message(exc: ValidationError, at: str = "") -> str:
    """``location: problem`` of the first error of a pydantic validation, on one line;
    ``at`` is the location of the value validated (``options.shot.duration``).

    >>> from pydantic import BaseModel, Field
    >>> class M(BaseModel):
    ...     frames: int = Field(ge=1)
    >>> try:
    ...     M.model_validate({"frames": 0})
    ... except Exception as e:
    ...     print(schema_message(e))
    frames: must be >= 1 (got 0)
    """
    error = exc.errors(include_url=False)[0]
    where = ".".join([at, *(str(part) for part in error["loc"])] if at else map(str, error["loc"]))
    value = error.get("input")
    got = f" (got {_shown(value)})" if isinstance(value, (int, float, str, bool)) or value is None else ""
    return " ".join(f"{where or 'top level'}: {_problem(error, got)}".split())


def _bound(ctx: dict[str, Any]) -> Any:
    bound = next(iter(ctx.values()), "?")
    if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e15:
        return int(bound)
    return bound


def _problem(error: Any, got: str) -> str:
    """What is wrong, in words, for one pydantic error; ``got`` shows a scalar input."""
    kind, ctx, loc = error["type"], error.get("ctx") or {}, error["loc"]
    lengths = {
        "too_short": f"must have at least {ctx.get('min_length')} items",
        "too_long": f"must have at most {ctx.get('max_length')} items",
        "string_too_long": f"must be at most {ctx.get('max_length')} characters long",
        "string_too_short": f"must have at least {ctx.get('min_length')} characters",
    }
    if kind == "missing" and loc and isinstance(loc[-1], int):
        return "is missing: the list is too short"
    if kind in ("missing", "extra_forbidden"):
        return _SIMPLE[kind]
    if kind in _SIMPLE:
        return _SIMPLE[kind] + got
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {_bound(ctx)}{got}"
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in lengths:
        return lengths[kind]
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if "{64}" in pattern:
            return "must be a SHA-256: 64 lowercase hex digits"
        return "must not contain a NUL character" if r"\x00" in pattern else f"must match {pattern}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}{got}"
    return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
