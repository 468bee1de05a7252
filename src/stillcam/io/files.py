"""Files written whole or not at all, and output destinations checked before any work.

In the io layer, below every stage (docs/architecture.md): every stage that writes a file
(recipes, shot files, cached depth, exports, uploads) goes through these, so nothing ever
appears under a final name half-written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import OutputError


def publish(tmp: Path, final: Path) -> None:
    """Rename a finished temporary file to its final name, with the umask's usual permissions.

    (``tempfile.mkstemp`` creates files readable by the owner only; outputs must not be.)
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, final)


def write_bytes_atomic(path: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file renamed into place; on
    failure no file is left behind and :class:`OutputError` names ``what`` was being written."""
    tmp: Path | None = None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.partial-", dir=path.parent)
        tmp = Path(name)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        publish(tmp, path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write {what} ({exc.strerror})") from None


def write_text_atomic(path: Path, text: str, what: str) -> None:
    """:func:`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"), what)


def check_destination(path: Path, overwrite: bool, what: str = "output") -> None:
    """Refuse, before any work, a ``path`` whose folder is missing or read-only, or that exists
    (unless ``overwrite``); ``what`` names it in the message."""
    if not path.parent.is_dir():
        raise OutputError(f"{path.parent}: {what} folder does not exist; create it first")
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists; pass --overwrite to replace it")
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path.parent}: folder is not writable; choose another {what} path")
