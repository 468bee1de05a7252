"""Model weights from the Hugging Face cache, pinned to a revision, fetched only when allowed.

One place for the offline rule shared by depth and fill models: the cache first; a download
only when asked (``download=True``), or by default unless ``HF_HUB_OFFLINE`` is set; every
failure is one :class:`~stillcam.errors.ModelUnavailableError` with the caller's advice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import ModelUnavailableError, missing_extra


def hub_cache() -> str:
    """Where the Hugging Face cache is on this machine (for messages)."""
    try:
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:
        return "the Hugging Face cache"
    return str(HF_HUB_CACHE)


def hub_path(
    repo_id: str,
    revision: str,
    *,
    filename: str | None,
    download: bool | None,
    extra: str,
    advice: Callable[[str], str],
) -> Path:
    """The pinned ``revision`` of ``repo_id``: its snapshot folder (``filename`` None) or one
    file of it.

    Args:
        download: fetch when missing (True), never (False), or unless ``HF_HUB_OFFLINE`` (None).
        extra: the pip extra that brings ``huggingface_hub`` (for the install hint).
        advice: reason -> the one-line message of the error (what to do instead).

    Raises:
        MissingExtraError: huggingface_hub is not installed.
        ModelUnavailableError: not in the cache, and not downloadable.
    """
    try:
        from huggingface_hub import hf_hub_download, snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        raise missing_extra("huggingface_hub", extra) from None

    def fetch(local_only: bool) -> str:
        if filename is None:
            return snapshot_download(repo_id, revision=revision, local_files_only=local_only)
        return hf_hub_download(repo_id, filename, revision=revision, local_files_only=local_only)

    try:
        return Path(fetch(True))
    except LocalEntryNotFoundError:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        if not (download if download is not None else not offline):
            raise ModelUnavailableError(advice("not in the local cache, hub offline")) from None
    try:
        return Path(fetch(False))
    except Exception as exc:  # any network or hub failure ends in the same advice
        raise ModelUnavailableError(advice(f"download failed: {exc}")) from None
