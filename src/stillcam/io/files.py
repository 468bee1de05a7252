"""Files written whole or not at all, and output destinations checked before any work.

In the io layer, below every stage (docs/architecture.md): every stage that writes a file
(recipes, shot files, cached depth, exports, uploads, frames) goes through these, so nothing
ever appears under a final name half-written.

**Partials.** A file is written into a hidden *partial folder* beside its final name,
``.<first 32 characters of the name>.<hash of the name>.<host>-<pid>-<random>.partial``, and
moved into place when complete. The folder's name is short whatever the final name's length
(a 255-byte output name still works), names the output it belongs to (the hash), and the
process that writes it (a hash of the host name and the process id): a later render to the
same output removes the partials whose process is gone (:func:`remove_stale_partials`; a
``kill -9`` leaves one) and refuses, unless ``--overwrite``, to race one whose process is
alive (:func:`check_destination`).

**Owners.** A partial made on another host cannot be told alive or gone, so it is never
removed. A writer that knows better names itself: within :func:`owned_by` every partial
carries an *owner* tag (``<host>-<pid>-<owner>-<random>``); a retried Ray task has the tag of
the attempt that died (``stillcam.batch.ray_backend``) and removes that attempt's partials,
on whichever host it ran (:func:`remove_owned_partials`).

**Publishing.** :func:`publish_all` checks every final name before it moves any file, and
without ``overwrite`` claims each final name atomically with a hard link, which fails if the
name exists: of two renders to one output at once, the second fails with one line instead of
replacing the first one's output.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from .._signals import deferred_signals
from ..errors import OutputError

_LOG = logging.getLogger("stillcam")

PARTIAL_SUFFIX = ".partial"
_LABEL_CHARS = 32
#: Errors of a file system without hard links: publishing falls back to check-then-rename.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}
#: The owner tag of the partials this process makes now (:func:`owned_by`); "" for none. A
#: process global, not a context variable: the sinks make partials in their writer threads.
_OWNER = [""]
_OWNER_CHARS = frozenset("0123456789abcdef")


@contextmanager
def owned_by(owner: str) -> Iterator[None]:
    """Within this block, every partial made in this process carries ``owner`` (module
    docstring): 1 to 16 lowercase hex digits, the same for every attempt of one piece of work.

    Raises:
        ValueError: ``owner`` is not 1 to 16 lowercase hex digits.
    """
    if not 1 <= len(owner) <= 16 or not set(owner) <= _OWNER_CHARS:
        raise ValueError(f"an owner tag is 1 to 16 lowercase hex digits, got {owner!r}")
    before, _OWNER[0] = _OWNER[0], owner
    try:
        yield
    finally:
        _OWNER[0] = before


@cache
def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def _prefix(final: Path) -> str:
    """The start of the name of every partial folder of ``final``."""
    name = final.name
    key = hashlib.sha256(os.fsencode(name)).hexdigest()[:10]
    return f".{name[:_LABEL_CHARS]}.{key}."


def make_partial(final: Path) -> Path:
    """A new, empty partial folder for ``final``, beside it (module docstring)."""
    owner = _OWNER[0]
    prefix = f"{_prefix(final)}{_host()}-{os.getpid()}-" + (f"{owner}-" if owner else "")
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=PARTIAL_SUFFIX, dir=final.parent))


@dataclass(frozen=True)
class Partial:
    """A partial folder (or file) found beside an output.

    Attributes:
        path: the partial.
        pid: the process that made it.
        state: ``"alive"`` (its process runs, or may: this process, or one whose state cannot
            be told), ``"gone"`` (no such process on this host), ``"elsewhere"`` (made on
            another host; never removed but by its owner, :func:`remove_owned_partials`).
        owner: the owner tag it was made under (:func:`owned_by`); "" for none.
    """

    path: Path
    pid: int
    state: Literal["alive", "gone", "elsewhere"]
    owner: str = ""


def _state(host: str, pid: int) -> Literal["alive", "gone", "elsewhere"]:
    if host != _host():
        return "elsewhere"
    if pid == os.getpid() or os.name == "nt":  # (os.kill would end the process on Windows)
        return "alive"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except OSError:  # PermissionError: another user's live process
        return "alive"
    return "alive"


def partials_of(final: Path) -> list[Partial]:
    """The partials of ``final`` beside it, with their process's state."""
    prefix = _prefix(final)
    found = []
    try:
        with os.scandir(final.parent) as entries:
            names = [e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(PARTIAL_SUFFIX)]
    except OSError:
        return []
    for name in sorted(names):
        host, _, rest = name[len(prefix) : -len(PARTIAL_SUFFIX)].partition("-")
        parts = rest.split("-")  # pid, [owner,] random (tempfile's random part has no "-")
        if parts[0].isdigit():
            pid = int(parts[0])
            owner = parts[1] if len(parts) == 3 else ""
            found.append(Partial(final.parent / name, pid, _state(host, pid), owner))
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_partials(final: Path) -> list[Path]:
    """Remove the partials of ``final`` whose process is gone (a killed render's), each with
    a warning on the ``stillcam`` log (``stillcam: warning: ...`` on the command line).

    Returns:
        The partials removed.
    """
    removed = []
    for partial in partials_of(final):
        if partial.state == "gone":
            _remove(partial.path)
            removed.append(partial.path)
            _LOG.warning(
                f"removed {partial.path.name}, a partial {final.name} left by process {partial.pid}, "
                "which is gone"
            )
    return removed


def remove_owned_partials(folder: Path, owner: str) -> list[Path]:
    """Remove the partials in ``folder`` made under ``owner`` (:func:`owned_by`) by another
    process, here or on another host, whose process is not known to run: the caller, an
    attempt of the same work, knows the earlier attempt is dead. Each with a warning.

    Returns:
        The partials removed.
    """
    removed = []
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(PARTIAL_SUFFIX))
    except OSError:
        return []
    for name in names:
        writer = name[: -len(PARTIAL_SUFFIX)].rpartition(".")[2]  # <host>-<pid>-<owner>-<random>
        parts = writer.split("-")
        if len(parts) != 4 or parts[2] != owner or not parts[1].isdigit():
            continue
        if _state(parts[0], int(parts[1])) == "alive":
            continue
        _remove(folder / name)
        removed.append(folder / name)
        _LOG.warning(f"removed {name}, a partial left by an earlier attempt of this task")
    return removed


def check_not_in_progress(final: Path) -> None:
    """Refuse ``final`` while another process is writing it (a partial of a live process).

    Raises:
        OutputError: naming the process and its partial; ``--overwrite`` writes anyway.
    """
    for partial in partials_of(final):
        if partial.state == "alive":
            raise OutputError(
                f"{final}: another stillcam process (pid {partial.pid}) is writing it "
                f"({partial.path.name}); wait for it to finish, or pass --overwrite"
            )
        if partial.state == "elsewhere":
            raise OutputError(
                f"{final}: a stillcam process on another host (pid {partial.pid}) is writing it "
                f"({partial.path.name}); wait for it, remove that partial if it is gone, or pass --overwrite"
            )


def name_max(folder: Path) -> int:
    """The longest file name, in bytes, ``folder`` takes (255 where it cannot be asked)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):
        return 255


def check_name(path: Path, what: str = "output") -> None:
    """Refuse a file name longer than its folder takes.

    Raises:
        OutputError: with the name's length and the limit.
    """
    size, limit = len(os.fsencode(path.name)), name_max(path.parent)
    if size > limit:
        raise OutputError(
            f"{path.parent / (path.name[:40] + '...')}: the {what} name is {size} bytes, longer than the "
            f"{limit} the folder takes; choose a shorter name"
        )


def check_final(path: Path, overwrite: bool, what: str = "output") -> None:
    """Refuse a final name that is a folder, or that exists (unless ``overwrite``).

    Raises:
        OutputError: what is in the way, and what to do.
    """
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, not a file; remove it or choose another {what} name")
    if not overwrite and os.path.lexists(path):
        raise OutputError(f"{path}: already exists; pass --overwrite to replace it")


def check_destination(path: Path, overwrite: bool, what: str = "output") -> None:
    """Refuse, before any work, a ``path`` whose folder is missing or read-only, whose name is
    too long, that is a folder, that exists (unless ``overwrite``) or that another live process
    is writing (unless ``overwrite``); ``what`` names it in the message."""
    if not path.parent.is_dir():
        raise OutputError(f"{path.parent}: {what} folder does not exist; create it first")
    check_name(path, what)
    check_final(path, overwrite, what)
    if not overwrite:
        check_not_in_progress(path)
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path.parent}: folder is not writable; choose another {what} path")


def _make_readable(tmp: Path) -> None:
    """The umask's usual permissions (``tempfile`` creates files and folders for the owner only)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def publish(tmp: Path, final: Path) -> None:
    """Rename a finished temporary file to its final name, replacing what is there, with the
    umask's usual permissions."""
    _make_readable(tmp)
    os.replace(tmp, final)


def publish_new(tmp: Path, final: Path) -> None:
    """Publish ``tmp`` as ``final`` only if ``final`` does not exist, atomically: a hard link
    claims the name (on a file system without hard links: check, then rename).

    Raises:
        OutputError: ``final`` exists (another process may have written it meanwhile).
    """
    _make_readable(tmp)
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise OutputError(
            f"{final}: already exists (written by another process meanwhile?); pass --overwrite to replace it"
        ) from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.path.lexists(final):
            raise OutputError(f"{final}: already exists; pass --overwrite to replace it") from None
        os.replace(tmp, final)
        return
    os.unlink(tmp)


def publish_all(files: Sequence[tuple[Path, Path]], *, overwrite: bool) -> None:
    """Publish every finished ``(partial file, final name)`` pair, or, as far as a file system
    allows, none: every final name is checked first (:func:`check_final`), then the files are
    moved in order, with SIGINT, SIGTERM and SIGHUP held until the last one is in place.
    Without ``overwrite`` each name is claimed atomically (:func:`publish_new`) and a failure
    withdraws the files published so far.

    Raises:
        OutputError: a final name in the way, or a file that cannot be moved.
    """
    for _, final in files:
        check_final(final, overwrite)
    published: list[tuple[Path, tuple[int, int]]] = []
    with deferred_signals():
        try:
            for tmp, final in files:
                if overwrite:
                    publish(tmp, final)
                    continue
                stat = os.stat(tmp)
                publish_new(tmp, final)
                published.append((final, (stat.st_dev, stat.st_ino)))
        except OSError as exc:
            for done, identity in published:  # only files that are still the ones published here
                try:
                    now = os.lstat(done)
                    if (now.st_dev, now.st_ino) == identity:
                        done.unlink()
                except OSError:
                    pass
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"{final}: cannot be written ({exc.strerror or exc})") from None


class PartialFile:
    """One file written in a partial folder and published later (:func:`publish_all`), e.g.
    a recipe published together with its output.

    Attributes:
        final: the final name.
        path: where to write the file until it is published.
    """

    def __init__(self, final: Path) -> None:
        self.final = final
        self._folder = make_partial(final)
        self.path = self._folder / final.name

    def finish(self) -> list[tuple[Path, Path]]:
        """``[(path, final)]``: what :func:`publish_all` moves."""
        return [(self.path, self.final)]

    def published(self) -> None:
        """Remove the (now empty) partial folder."""
        shutil.rmtree(self._folder, ignore_errors=True)

    def abort(self) -> None:
        """Remove the partial folder and what was written in it."""
        shutil.rmtree(self._folder, ignore_errors=True)


def write_bytes_atomic(path: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``path`` through a partial folder (module docstring), replacing what
    is there; on any failure or interruption no file is left behind, and a failure is an
    :class:`OutputError` naming ``what`` was being written."""
    folder: Path | None = None
    try:
        folder = make_partial(path)
        tmp = folder / path.name
        with open(tmp, "wb") as out:
            out.write(data)
        publish(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write {what} ({exc.strerror or exc})") from None
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def write_text_atomic(path: Path, text: str, what: str) -> None:
    """:func:`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"), what)
