"""Uploaded photos and depth files under ``<data>/uploads/<id>/``, sniffed before they are
kept, and a small cache of what was decoded or built from them (no HTTP here).

Photos must decode completely with Pillow, whose decompression-bomb limit stays on; depth
files must start like EXR, PNG, TIFF or .npy. Files are stored under names the server
chooses; ids are random.
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import RequestError
from ..io.files import write_bytes_atomic, write_text_atomic

#: Decoded inputs and preview scenes kept, most recently used first.
CACHE_ENTRIES = 6
_DEPTH_MAGIC = {
    b"\x76\x2f\x31\x01": ".exr",
    b"\x89PNG": ".png",
    b"II*\x00": ".tif",
    b"MM\x00*": ".tif",
    b"\x93NUM": ".npy",
}
_PHOTO_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
T = TypeVar("T")


def sniff_photo(photo: bytes) -> tuple[str, tuple[int, int]]:
    """(file suffix, (width, height)) of an uploaded photo, decoded completely.

    Raises:
        RequestError: 413 for a decompression bomb, 415 for what is not a supported image.
    """
    from PIL import Image  # Pillow is a core dependency; imported here to keep start-up light

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(photo)) as image:
                kind, size = image.format, image.size
                image.load()  # decodes everything: truncated files fail here
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise RequestError(f"photo too large to decode safely: {exc}", 413) from None
        except Exception:
            raise RequestError("the photo is not an image, or it is damaged or truncated", 415) from None
    if kind not in _PHOTO_SUFFIX:
        raise RequestError(f"photo format {kind} is not supported; send JPEG, PNG, TIFF or WebP", 415)
    return _PHOTO_SUFFIX[kind], size


def sniff_depth(depth: bytes) -> str:
    """The file suffix of an uploaded depth file, from its first bytes (415 if unknown)."""
    suffix = _DEPTH_MAGIC.get(depth[:4])
    if suffix is None:
        raise RequestError("the depth file is not EXR, PNG, TIFF or .npy", 415)
    return suffix


class Uploads:
    """The uploads folder and a small least-recently-used cache keyed by strings."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def save(self, photo: bytes, depth: bytes | None, photo_name: str, depth_name: str | None) -> dict:
        """Keep an upload; returns its id, the photo's size and whether it has a depth file."""
        photo_suffix, size = sniff_photo(photo)
        depth_suffix = sniff_depth(depth) if depth is not None else None
        upload_id = secrets.token_hex(16)
        folder = self.root / upload_id
        folder.mkdir()
        write_bytes_atomic(folder / f"photo{photo_suffix}", photo, "uploaded photo")
        if depth is not None:
            write_bytes_atomic(folder / f"depth{depth_suffix}", depth, "uploaded depth file")
        names = {
            "photo": Path(photo_name or "photo").name,
            "depth": Path(depth_name).name if depth_name else None,
        }
        write_text_atomic(folder / "names.json", json.dumps(names), "upload record")
        return {"id": upload_id, "width": size[0], "height": size[1], "has_depth": depth is not None}

    def files(self, upload_id: str) -> tuple[Path, Path | None, dict]:
        """(photo, depth file or None, original names) of an upload (404 if there is none)."""
        if not (len(upload_id) == 32 and all(c in "0123456789abcdef" for c in upload_id)):
            raise RequestError("no such photo", 404)
        folder = self.root / upload_id
        if not folder.is_dir():
            raise RequestError("no such photo; upload it again", 404)
        photo = next(folder.glob("photo.*"))
        depth = next(folder.glob("depth.*"), None)
        return photo, depth, json.loads((folder / "names.json").read_text())

    def cached_only(self, key: str) -> Any:
        """The cached value of ``key``, or None."""
        with self._lock:
            return self._cache.get(key)

    def cached(self, key: str, make: Callable[[], T]) -> T:
        """The cached value of ``key``, made by ``make()`` (outside the lock) when missing."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = make()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value
