"""Uploaded photos and depth files under ``<data>/uploads/<id>/``, camera files under
``<data>/cameras/<id>/``, each sniffed before it is kept (:mod:`.sniff`), and a small cache of
what was decoded or built from them (no HTTP here).

Files are stored under names the server chooses; ids are random. Only the newest ``keep``
uploads of each kind are kept (older ones are deleted when a new one arrives, unless a queued
or running render still needs them), and what an interrupted upload left is removed when the
server starts.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

from ..errors import RequestError
from ..io.files import write_bytes_atomic, write_text_atomic
from .sniff import sniff_depth, sniff_photo

#: Decoded inputs and preview scenes kept, most recently used first.
CACHE_ENTRIES = 6
#: Uploads of each kind kept by default (photos, camera files).
KEEP_UPLOADS = 50
#: Largest camera file (shot file or transforms.json) accepted, in bytes.
CAMERA_FILE_BYTES = 8 * 2**20
NAMES = "names.json"
T = TypeVar("T")


def is_upload_id(text: str) -> bool:
    """Whether ``text`` is the form of an upload id (32 lowercase hex digits)."""
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


class _Folders:
    """Upload folders ``<root>/<id>/`` each with a ``names.json`` written last."""

    def __init__(self, root: Path, keep: int) -> None:
        self.root, self.keep = root, keep
        root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for folder in root.iterdir():  # what an interrupted upload or a crash left behind
            if is_upload_id(folder.name) and not (folder / NAMES).is_file():
                _remove(folder)
            else:
                for partial in folder.glob(".*.partial-*"):
                    _remove(partial)

    def _new(self) -> Path:
        folder = self.root / secrets.token_hex(16)
        folder.mkdir()
        return folder

    def _folder(self, upload_id: str, what: str) -> Path:
        folder = self.root / upload_id
        if not is_upload_id(upload_id) or not (folder / NAMES).is_file():
            raise RequestError(f"no such {what}; upload it again", 404)
        return folder

    def _names(self, folder: Path, what: str) -> dict[str, Any]:
        try:
            names = json.loads((folder / NAMES).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            names = None
        if not isinstance(names, dict):
            raise RequestError(f"no such {what}; upload it again", 404)
        return names

    def prune(self, in_use: Collection[str] = ()) -> list[str]:
        """Delete all but the newest ``keep`` uploads, sparing those in ``in_use``; returns the
        ids deleted."""
        with self._lock:
            records = []
            for folder in self.root.iterdir():
                try:
                    records.append(((folder / NAMES).stat().st_mtime_ns, folder))
                except OSError:
                    continue
            records.sort(reverse=True)
            gone = [f for _, f in records[self.keep :] if f.name not in in_use]
            for folder in gone:
                _remove(folder)
            return [f.name for f in gone]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Uploads(_Folders):
    """The photo uploads folder and a small least-recently-used cache keyed by strings."""

    def __init__(self, root: Path, keep: int = KEEP_UPLOADS) -> None:
        super().__init__(root, keep)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._making: dict[str, threading.Event] = {}

    def save(self, photo: bytes, depth: bytes | None, photo_name: str, depth_name: str | None) -> dict:
        """Keep an upload; returns its id, the photo's size and whether it has a depth file.

        Raises:
            RequestError: 413 for a file over the pixel budget, 415 for one of no supported kind.
        """
        photo_suffix, size = sniff_photo(photo, client_name(photo_name, "photo"))
        depth_suffix = (
            sniff_depth(depth, client_name(depth_name, "depth file"))[0] if depth is not None else None
        )
        folder = self._new()
        write_bytes_atomic(folder / f"photo{photo_suffix}", photo, "uploaded photo")
        if depth is not None:
            write_bytes_atomic(folder / f"depth{depth_suffix}", depth, "uploaded depth file")
        names = {
            "photo": client_name(photo_name, "photo"),
            "depth": client_name(depth_name, "depth") if depth is not None else None,
        }
        write_text_atomic(folder / NAMES, json.dumps(names), "upload record")
        return {"id": folder.name, "width": size[0], "height": size[1], "has_depth": depth is not None}

    def files(self, upload_id: str) -> tuple[Path, Path | None, dict]:
        """(photo, depth file or None, original names) of an upload (404 if there is none)."""
        folder = self._folder(upload_id, "photo")
        photo = next(folder.glob("photo.*"), None)
        if photo is None:
            raise RequestError("no such photo; upload it again", 404)
        depth = next(folder.glob("depth.*"), None)
        return photo, depth, self._names(folder, "photo")

    def cached_only(self, key: str) -> Any:
        """The cached value of ``key``, or None."""
        with self._lock:
            return self._cache.get(key)

    def cached(self, key: str, make: Callable[[], T]) -> T:
        """The cached value of ``key``, made by ``make()`` (outside the lock) when missing; a
        caller that asks for a key being made waits for that one instead of making it again."""
        while True:
            with self._lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
                making = self._making.get(key)
                if making is None:
                    making = self._making[key] = threading.Event()
                    break
            making.wait()  # then take its value, or make it here if it failed or was evicted
        try:
            value = make()
            with self._lock:
                self._cache[key] = value
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._making[key]
            making.set()


class CameraFiles(_Folders):
    """Uploaded camera files: shot files (YAML or JSON) and transforms.json files, kept under
    the name their content calls for (``camera.yaml``, ``camera.json``, ``transforms.json``)."""

    def save(self, data: bytes, name: str, check: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
        """Keep a camera file once ``check(path)`` (which reads it as a render would, and says
        what it holds) passed; returns its id and what ``check`` said.

        Raises:
            RequestError: 413 over CAMERA_FILE_BYTES, 415 for what is not UTF-8 text or holds
                YAML aliases, and whatever ``check`` raises.
        """
        if len(data) > CAMERA_FILE_BYTES:
            raise RequestError(f"camera files are at most {CAMERA_FILE_BYTES // 2**20} MB", 413)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError("the camera file is not UTF-8 text (YAML or JSON)", 415) from None
        stored = _camera_name(text, client_name(name, "camera"))
        if stored.endswith(".yaml"):
            _refuse_yaml_aliases(text)
        folder = self._new()
        try:
            path = folder / stored
            write_bytes_atomic(path, data, "uploaded camera file")
            described = check(path)
        except BaseException:
            _remove(folder)
            raise
        write_text_atomic(folder / NAMES, json.dumps({"camera": client_name(name, "camera")}), "upload")
        return {"id": folder.name, **described}

    def file(self, upload_id: str) -> tuple[Path, str]:
        """(the stored camera file, its original name) of an upload (404 if there is none)."""
        folder = self._folder(upload_id, "camera file")
        path = next((p for p in folder.iterdir() if p.name in _CAMERA_NAMES), None)
        if path is None:
            raise RequestError("no such camera file; upload it again", 404)
        return path, str(self._names(folder, "camera file").get("camera", path.name))


_CAMERA_NAMES = ("camera.yaml", "camera.json", "transforms.json")


def client_name(name: str | None, default: str) -> str:
    """A client's file name as shown in messages and commands (no folders, at most 200 chars)."""
    text = Path(str(name or "").replace("\\", "/")).name[:200]
    return text if text and text not in (".", "..") else default


def _camera_name(text: str, given: str) -> str:
    """``transforms.json`` for JSON with ``frames`` at its top, ``camera.json`` for other JSON
    (or a ``.json`` name), ``camera.yaml`` for the rest."""
    suffix = Path(given).suffix.lower()
    try:
        data = json.loads(text) if suffix not in (".yaml", ".yml") else None
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict) and "frames" in data:
        return "transforms.json"
    return "camera.json" if data is not None or suffix == ".json" else "camera.yaml"


def _refuse_yaml_aliases(text: str) -> None:
    """Refuse YAML with aliases (``*name``): a few hundred bytes of them expand to billions of
    values (a "billion laughs" file); shot files never need them."""
    import yaml

    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise RequestError("the camera file uses YAML aliases (*name); write the values out", 415)
    except yaml.YAMLError:
        return  # the shot file reader says what is wrong, with its line
