"""Shared storage by URL (extra ``storage``): a batch's outputs under ``-o URL`` and its inputs
(photos, depth files, shot files) given as URLs, on any `fsspec <https://filesystem-spec.readthedocs.io>`_
filesystem (``s3://``, ``gs://``, ``az://``, ``file://``, ...; the protocol's own package, such
as ``s3fs``, is the user's to install).

A :class:`Remote` is a URL with the filesystem that reaches it, resolved once in the driver
(:func:`remote`) and pickled with the job to the process that renders it, so a worker needs
the protocol's package installed but no registration of its own.

* :func:`publish` uploads a shot's files: every final name checked first (an existing one is
  refused unless ``overwrite``, or left as it is when it holds the same bytes), each file
  uploaded under a hidden temporary name beside its final one (``.NAME.RANDOM.stillcam-upload``),
  then moved into place, the last one last (the recipe, so a recipe on the storage means its
  outputs are all there). On any failure or interruption the temporaries are removed, and so
  are the final names the call had made: a retried shot finds the names as they were before
  it. A process killed outright (its node lost) cannot clean up: its retry finds the files it
  had moved into place, with the bytes the retry renders again (renders are repeatable), and
  completes the set; its temporaries stay, under their hidden names.
* :func:`write_bytes` replaces one file the same way (the manifest, the timeline).
* :func:`fetch` copies an input into this machine's cache (``$STILLCAM_CACHE_DIR/inputs``, the
  depth cache's neighbour), once per process, under a name keyed by the URL and the size,
  modification time and ETag the storage reports: a changed file is fetched again, an
  unchanged one never.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..depth.estimate import cache_dir
from ..errors import InputError, OutputError, missing_extra
from ..io.limits import one_line

#: What a URL starts with: a protocol of two or more characters (``C:`` is a drive), possibly
#: chained (``simplecache::s3://``), then ``://``.
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*::)*[A-Za-z][A-Za-z0-9+.\-]+://")
#: The end of a temporary upload's name.
TEMP_SUFFIX = ".stillcam-upload"
#: The folder under the cache folder that holds fetched inputs.
INPUTS_CACHE = "inputs"
#: Keys of a file's info (fsspec's ``info``) that change when its content does.
_VERSION_KEYS = (
    "size",
    "ETag",
    "etag",
    "md5Hash",
    "generation",
    "VersionId",
    "mtime",
    "LastModified",
    "last_modified",
    "updated",
    "modified",
)
#: Inputs fetched by this process: (URL, filesystem token, cache folder) -> the local copy.
_FETCHED: dict[tuple[str, str, str], Path] = {}


def is_url(value: object) -> bool:
    """Whether ``value`` is a :class:`Remote` or text that is a URL (``s3://bucket/key``).

    >>> is_url("s3://bucket/a.jpg"), is_url("file:///data/a.jpg"), is_url("stills/a.jpg"), is_url("C:/a.jpg")
    (True, True, False, False)
    """
    return isinstance(value, Remote) or (isinstance(value, str) and _URL.match(value) is not None)


@dataclass(frozen=True)
class Remote:
    """A file or folder on fsspec storage.

    Attributes:
        url: its URL, as the user gave it (without a trailing ``/``).
        path: the filesystem's path for it.
        fs: the fsspec filesystem that reaches it (compared and hashed by ``url`` only).
    """

    url: str
    path: str
    fs: Any = field(compare=False, repr=False)

    def __str__(self) -> str:
        return self.url

    @property
    def name(self) -> str:
        """The last part of its path (``a.jpg``)."""
        return self.path.rstrip("/").rpartition("/")[2]

    def child(self, relative: str) -> Remote:
        """The file or folder ``relative`` (``shots/a_v001.mp4``) under this folder."""
        relative = relative.strip("/")
        if relative in ("", "."):
            return self
        url = self.url if self.url.endswith("/") else f"{self.url}/"
        return Remote(f"{url}{relative}", f"{self.path.rstrip('/')}/{relative}", self.fs)

    def sibling(self, name: str) -> Remote:
        """The file ``name`` in this one's folder."""
        url, path = self.url.rpartition("/")[0], self.path.rstrip("/").rpartition("/")[0]
        return Remote(f"{url}/{name}", f"{path}/{name}", self.fs)


def _fsspec() -> Any:
    try:
        import fsspec.core
    except ImportError:
        raise missing_extra("fsspec", "storage") from None
    return fsspec


def install_hint(protocol: str) -> str:
    """What to install for ``protocol`` (``s3`` -> ``pip install s3fs``), from fsspec's table of
    known protocols; "" when it names none."""
    from fsspec.registry import known_implementations

    spec = known_implementations.get(protocol) or {}
    package = str(spec.get("class", "")).partition(".")[0]
    return f"pip install {package}" if package and package != "fsspec" else ""


def remote(url: str) -> Remote:
    """The :class:`Remote` of ``url``: its filesystem made (fsspec's ``url_to_fs``; its options
    from fsspec's configuration and the protocol's own, such as AWS's environment variables).

    Raises:
        MissingExtraError: fsspec is not installed (extra ``storage``).
        InputError: one line: a protocol fsspec does not know, or whose package is not
            installed (with what to install), or a URL the filesystem refuses.
    """
    fsspec = _fsspec()
    url = url if url.endswith(":///") else url.rstrip("/")
    protocol = url.split("://", 1)[0].rpartition("::")[2]
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        from fsspec.registry import known_implementations

        hint = install_hint(protocol)
        why = (known_implementations.get(protocol) or {}).get("err") or exc
        text = f"{url}: {protocol}:// needs a package that is not installed ({one_line(why, 120)})"
        raise InputError(f"{text}; {hint}" if hint else text) from None
    except ValueError as exc:
        if "protocol not known" in str(exc).lower():
            raise InputError(
                f"{url}: unknown protocol {protocol}://; install the fsspec filesystem that provides it "
                "(s3:// s3fs, gs:// gcsfs, az:// adlfs; docs/batch.md)"
            ) from None
        raise InputError(f"{url}: {one_line(exc, 160)}") from None
    except Exception as exc:  # the filesystem's own refusal (bad options, credentials)
        raise InputError(f"{url}: cannot open its storage ({one_line(exc, 160)})") from None
    return Remote(url, str(path), fs)


def _info(target: Remote) -> dict[str, Any] | None:
    """``target``'s info (type, size, ...), None when nothing is there.

    Raises:
        OutputError: the storage cannot be asked (one line).
    """
    try:
        return dict(target.fs.info(target.path))
    except FileNotFoundError:
        return None
    except Exception as exc:
        raise OutputError(f"{target}: cannot reach it ({one_line(exc, 160)})") from None


def exists(target: Remote) -> bool:
    """Whether a file or folder is at ``target``."""
    return _info(target) is not None


def is_file(target: Remote) -> bool:
    """Whether a file is at ``target``."""
    info = _info(target)
    return info is not None and info.get("type") != "directory"


def file_problem(role: str, target: Remote) -> str | None:
    """What is wrong with an input file on storage (``photo s3://b/a.jpg: no such file``), or
    None; its content is not read."""
    try:
        info = _info(target)
    except OutputError as exc:
        return f"{role} {exc}"
    if info is None:
        return f"{role} {target}: no such file"
    if info.get("type") == "directory":
        return f"{role} {target}: is a folder, not a file"
    return None


def folder_problem(folder: Remote) -> str | None:
    """Why files cannot be written into ``folder``, or None (what storage allows is only known
    when a file is written: this finds a file in the folder's place and a storage that cannot
    be reached)."""
    try:
        info = _info(folder)
    except OutputError as exc:
        return str(exc)
    if info is not None and info.get("type") != "directory":
        return f"{folder}: is a file, not a folder"
    return None


def names_in(folder: Remote) -> list[str]:
    """The names of the files and folders in ``folder``, sorted ([] when it does not exist)."""
    try:
        entries = folder.fs.ls(folder.path, detail=False)
    except FileNotFoundError:
        return []
    except Exception as exc:
        raise OutputError(f"{folder}: cannot list it ({one_line(exc, 160)})") from None
    return sorted({str(entry).rstrip("/").rpartition("/")[2] for entry in entries})


def read_bytes(target: Remote, *, max_bytes: int, what: str) -> bytes:
    """The content of the file at ``target``, at most ``max_bytes`` of it.

    Raises:
        InputError: missing, a folder, too large or unreadable (one line naming ``what``).
    """
    problem = file_problem(what, target)
    if problem is not None:
        raise InputError(problem)
    info = _info(target) or {}
    if int(info.get("size") or 0) > max_bytes:
        raise InputError(f"{what} {target}: larger than {max_bytes >> 20} MiB")
    try:
        return bytes(target.fs.cat_file(target.path))
    except Exception as exc:
        raise InputError(f"{what} {target}: cannot read it ({one_line(exc, 160)})") from None


def image_size(target: Remote) -> tuple[int, int] | None:
    """(width, height) of the image at ``target`` from its header (Pillow reads the first
    blocks, no pixel data), None when it cannot be read (for memory estimates only)."""
    try:
        from PIL import Image

        with target.fs.open(target.path, "rb", block_size=1 << 16) as file, Image.open(file) as image:
            return image.size
    except Exception:  # unreadable, or past Pillow's own limits: the render will say
        return None


def _temporary(final: Remote) -> Remote:
    return final.sibling(f".{final.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")


def _remove(targets: Sequence[Remote]) -> None:
    for target in targets:
        try:
            target.fs.rm_file(target.path)
        except Exception:  # gone already, or the storage is unreachable: nothing more to do
            pass


#: Protocols whose files need their folder made first (object stores have no folders, and
#: making one there can make a bucket).
_FOLDER_PROTOCOLS = frozenset({"file", "local", "sftp", "ssh", "ftp", "smb"})


def _has_folders(fs: Any) -> bool:
    """Whether ``fs`` (or the filesystem it wraps: ``dir::``, caches) needs folders made."""
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    if _FOLDER_PROTOCOLS & set(protocols):
        return True
    inner = getattr(fs, "fs", None)
    return inner is not None and inner is not fs and _has_folders(inner)


def _parent(target: Remote) -> None:
    """Make ``target``'s folder where the storage has folders (a disk, SFTP); nothing on object
    stores."""
    if _has_folders(target.fs):
        target.fs.makedirs(target.fs._parent(target.path), exist_ok=True)


def same_content(local: Path, target: Remote) -> bool:
    """Whether the file at ``target`` holds exactly the bytes of ``local`` (sizes first, then
    both read through)."""
    info = _info(target)
    if info is None or info.get("type") == "directory" or info.get("size") != local.stat().st_size:
        return False
    digests = [hashlib.sha256(), hashlib.sha256()]
    try:
        with open(local, "rb") as mine, target.fs.open(target.path, "rb") as theirs:
            for digest, file in zip(digests, (mine, theirs), strict=True):
                while chunk := file.read(1 << 22):
                    digest.update(chunk)
    except Exception as exc:
        raise OutputError(f"{target}: cannot read it back ({one_line(exc, 160)})") from None
    return digests[0].digest() == digests[1].digest()


def publish(files: Sequence[tuple[Path, Remote]], *, overwrite: bool) -> None:
    """Upload each local file to its final name, all or nothing (module docstring); the last
    pair moves into place last. Without ``overwrite``, a final name that holds the same bytes
    already is left as it is (a retried task finding what its dead attempt published); one
    that holds other bytes is refused.

    Raises:
        OutputError: a final name exists with other bytes (without ``overwrite``), or the
            storage refused a step; nothing is left under a temporary name, nor under a final
            name this call made.
    """
    todo = []
    for local, final in files:
        if not overwrite and exists(final):
            if same_content(local, final):
                continue
            raise OutputError(f"{final} exists; stillcam never overwrites an output (use --overwrite)")
        todo.append((local, final))
    temporaries: dict[Remote, Remote] = {}  # final -> its temporary, until moved
    made: list[Remote] = []
    step: Remote | None = None
    try:
        for local, final in todo:
            step = final
            temporaries[final] = _temporary(final)
            _parent(final)
            final.fs.put_file(str(local), temporaries[final].path)
        for _, final in todo:
            step = final
            existed = exists(final)
            if existed and not overwrite:
                raise OutputError(f"{final} appeared while uploading; another batch is writing it")
            final.fs.mv(temporaries[final].path, final.path)
            del temporaries[final]
            if not existed:
                made.append(final)
    except BaseException as exc:
        _remove(list(temporaries.values()))
        _remove(made)
        if isinstance(exc, OutputError) or not isinstance(exc, Exception):
            raise
        raise OutputError(f"{step}: upload failed ({one_line(exc, 160)})") from None


def write_bytes(target: Remote, data: bytes, what: str) -> None:
    """Replace the file at ``target`` with ``data``: written under a temporary name beside it,
    then moved into place (a reader sees the old file or the new one, never half of one).

    Raises:
        OutputError: one line naming ``what``; no temporary is left.
    """
    temporary = _temporary(target)
    try:
        _parent(target)
        target.fs.pipe_file(temporary.path, data)
        target.fs.mv(temporary.path, target.path)
    except BaseException as exc:
        _remove([temporary])
        if not isinstance(exc, Exception):
            raise
        raise OutputError(f"{target}: cannot write {what} ({one_line(exc, 160)})") from None


def _version(info: dict[str, Any]) -> str:
    return json.dumps({key: info[key] for key in _VERSION_KEYS if key in info}, sort_keys=True, default=str)


def cached_path(target: Remote, version: str) -> Path:
    """Where :func:`fetch` keeps ``target`` at ``version`` (its info's size, time and ETag):
    ``$STILLCAM_CACHE_DIR/inputs/<key>/<its name>`` (the name kept: readers go by the suffix)."""
    key = hashlib.sha256(json.dumps([target.url, version]).encode()).hexdigest()[:24]
    return cache_dir().resolve() / INPUTS_CACHE / key / (target.name or "file")


def fetch(target: Remote, what: str = "input") -> Path:
    """A local copy of the file at ``target``: this process's copy when it has one, else the
    cache's when the storage reports the same version, else downloaded into the cache (under a
    temporary name, then renamed).

    Raises:
        InputError: no such file, or it cannot be downloaded (one line naming ``what``).
    """
    memo = (target.url, str(getattr(target.fs, "_fs_token", id(target.fs))), str(cache_dir()))
    known = _FETCHED.get(memo)
    if known is not None and known.is_file():
        return known
    problem = file_problem(what, target)
    if problem is not None:
        raise InputError(problem)
    version = _version(_info(target) or {})
    local = cached_path(target, version)
    if not local.is_file():
        temporary = local.with_name(f".{local.name}.{secrets.token_hex(6)}.part")
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            target.fs.get_file(target.path, str(temporary))
            os.replace(temporary, local)
        except BaseException as exc:
            if temporary.is_dir():
                shutil.rmtree(temporary, ignore_errors=True)
            temporary.unlink(missing_ok=True)
            if not isinstance(exc, Exception):
                raise
            raise InputError(f"{what} {target}: cannot fetch it ({one_line(exc, 160)})") from None
    _FETCHED[memo] = local
    return local


__all__ = [
    "INPUTS_CACHE",
    "Remote",
    "TEMP_SUFFIX",
    "cached_path",
    "exists",
    "fetch",
    "file_problem",
    "folder_problem",
    "image_size",
    "install_hint",
    "is_file",
    "is_url",
    "names_in",
    "publish",
    "read_bytes",
    "remote",
    "same_content",
    "write_bytes",
]
