"""``testfs://``: a tiny fsspec filesystem for the storage tests, so that the code under test
cannot reach its files by path: ``testfs://bucket/key`` is ``ROOT/bucket/key`` of a local folder
``ROOT`` that fsspec's configuration gives (``fsspec.config.conf["testfs"] = {"root": ...}``),
and no path of this machine starts with ``testfs:``.

Importing this module registers the protocol. A worker process (the local pool's, a Ray
task's) gets the filesystem pickled with the job, root included, and imports this module when
it unpickles it.
"""

from __future__ import annotations

from typing import Any

import fsspec
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

PROTOCOL = "testfs"


class RootedTestFS(DirFileSystem):
    """A local folder ``root`` as the storage of ``testfs://`` URLs."""

    protocol = PROTOCOL

    def __init__(self, root: str, **storage_options: Any) -> None:
        super().__init__(path=root, fs=LocalFileSystem(), **storage_options)


fsspec.register_implementation(PROTOCOL, RootedTestFS, clobber=True)
