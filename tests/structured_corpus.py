"""A corpus of damaged JSON/YAML files and JSON-like data, for the file schemas' tests
(shot files, transforms.json, recipes): importable, tests/ is on pythonpath.

Everything is made here from a valid file or dict: truncations, flipped bytes, binary
garbage, other encodings, deep nesting, huge numbers, every field replaced by a value of
another type; special files (a FIFO, ``/dev/zero``, a folder, a sparse file past the size
limit). Random choices come from seeded generators, so every run sees the same corpus.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

#: Values of every JSON type (and the non-standard ones Python's json reads: NaN, Infinity).
ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    "",
    "x" * 300,
    [],
    [1, 2, 3],
    {},
    {"a": 1},
]


def damaged_bytes(data: bytes, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """(name, content) of damaged versions of a valid file's ``data``."""
    rng = random.Random(seed)
    yield "empty", b""
    yield "whitespace", b"  \n\t "
    for fraction in (0.1, 0.25, 0.5, 0.75, 0.99):
        yield f"truncated-{fraction}", data[: int(len(data) * fraction)]
    for k in range(12):
        flipped = bytearray(data)
        for _ in range(1 + k % 3):
            at = rng.randrange(len(flipped))
            flipped[at] ^= 1 << rng.randrange(8)
        yield f"flipped-{k}", bytes(flipped)
    yield "binary", bytes(range(256)) * 8
    yield "nul-bytes", data[: len(data) // 2] + b"\0" * 16 + data[len(data) // 2 :]
    yield "utf-16", data.decode("utf-8").encode("utf-16")
    yield "latin-1", data + "é".encode("latin-1")
    yield "bom", b"\xef\xbb\xbf" + data
    yield "deep-list", b"[" * 100_000 + b"]" * 100_000
    yield "deep-object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    yield "deep-unclosed", b"[" * 100_000
    yield "nested-100", b"[" * 100 + b"]" * 100
    text = data.decode("utf-8")
    yield "huge-floats", re.sub(r"(?<![\w.])\d+\.\d+", "1e999", text).encode()
    yield "huge-ints", re.sub(r"(?<![\w.])\d+(?![\w.])", "9" * 5000, text).encode()
    yield "negative", re.sub(r"(?<![\w.-])(\d)", r"-\1", text).encode()
    yield "nan", re.sub(r"(?<![\w.])\d+\.\d+", "NaN", text).encode()
    yield "not-an-object", b"[1, 2, 3]"
    yield "a-string", b'"hello"'
    yield "a-number", b"42"


def yaml_bombs() -> Iterator[tuple[str, bytes]]:
    """YAML whose aliases multiply its size, or refer to themselves."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("segments: *a8")
    yield "billion-laughs", "\n".join(lines).encode()
    yield "self-alias", b"segments: &s [*s]\n"
    yield "deep-block", "".join(" " * i + "a:\n" for i in range(2000)).encode()
    yield "deep-flow", b"[" * 100_000 + b"]" * 100_000
    yield "tabs", b"segments:\n\t- move: pan\n"
    yield "python-tag", b"!!python/object/apply:os.system ['true']\n"
    yield "timestamp", b"segments:\n  - move: pan\n    frames: 2001-12-14\n"
    yield "set", b"segments: !!set {a, b}\n"
    yield "complex-key", b"? [a, b]\n: 1\n"


def special_files(folder: Path, *, larger_than: int) -> Iterator[tuple[str, Path]]:
    """(name, path) of files no reader may read whole or block on: a FIFO, ``/dev/zero``, a
    folder, a sparse regular file of ``larger_than + 1`` bytes, a dangling symlink."""
    folder.mkdir(parents=True, exist_ok=True)
    if hasattr(os, "mkfifo"):
        fifo = folder / "fifo.json"
        os.mkfifo(fifo)
        yield "fifo", fifo
    if Path("/dev/zero").exists():
        yield "dev-zero", Path("/dev/zero")
    directory = folder / "folder.json"
    directory.mkdir()
    yield "folder", directory
    sparse = folder / "sparse.json"
    with open(sparse, "wb") as handle:
        handle.truncate(larger_than + 1)
    yield "too-large", sparse
    dangling = folder / "dangling.json"
    dangling.symlink_to(folder / "nothing-here")
    yield "dangling-symlink", dangling


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every location inside ``data`` (dict keys and list indices), parents first."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*prefix, index)
            yield from paths_of(value, (*prefix, index))


def replaced(data: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    """A deep copy of ``data`` with the value at ``path`` replaced (or deleted)."""
    result = copy.deepcopy(data)
    parent = result
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def wrong_types(data: Any) -> Iterator[tuple[str, Any]]:
    """(location, data) with each location's value replaced by each of :data:`ODD_VALUES`
    and, for dict keys, deleted."""
    for path in paths_of(data):
        where = ".".join(map(str, path))
        for k, value in enumerate(ODD_VALUES):
            yield f"{where}={k}", replaced(data, path, value)
        if isinstance(path[-1], str):
            yield f"{where}-deleted", replaced(data, path, None, delete=True)


def as_json(data: Any) -> bytes:
    """``data`` as JSON text (NaN and infinities as Python writes them)."""
    return json.dumps(data).encode()


def json_like(keys: list[str]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON-like values: scalars of every type (NaN, infinities, huge integers)
    in lists and objects whose keys are mostly field names of the schema under test."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=12)
        | st.sampled_from(["24", "24000/1001", "linear", "pan", "0" * 64, "bezier(0,1,1,0)"])
    )
    names = st.sampled_from(keys) | st.text(max_size=6)
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(names, children, max_size=5),
        max_leaves=24,
    )


@st.composite
def mutated(draw: st.DrawFn, valid: Any, keys: list[str]) -> Any:
    """``valid`` with one to three locations replaced by arbitrary values or deleted."""
    data = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(paths_of(data))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if isinstance(path[-1], str) and draw(st.booleans()):
            data = replaced(data, path, None, delete=True)
        else:
            data = replaced(data, path, draw(json_like(keys)))
    return data


def assert_one_line(exc: BaseException, *, names: str | None = None) -> None:
    """The error's message is one line (and names ``names`` when given)."""
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text, repr(text)
    assert len(text) < 600, text
    if names is not None:
        assert names in text, text
