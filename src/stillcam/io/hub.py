"""Model weights from the Hugging Face cache, pinned to a revision, fetched only when allowed.

One place for the offline rule shared by depth and fill models: the cache first; a download
only when asked (``download=True``), or by default unless ``HF_HUB_OFFLINE`` is set; every
failure is one :class:`~stillcam.errors.ModelUnavailableError` with the caller's advice.

Before a download, one TCP connection to the hub (or to the HTTPS proxy) is tried with a
:data:`REACH_TIMEOUT_S` timeout: a machine without network fails at once with one line,
instead of ~30 s of the hub client's retries and a dozen lines of their logging.
"""

from __future__ import annotations

import os
import socket
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ..errors import ModelUnavailableError, missing_extra
from .limits import one_line

#: Seconds the reachability check waits for the hub (or the proxy) to accept a connection.
REACH_TIMEOUT_S = 3.0
_TRUE = ("1", "true", "yes", "on")


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) forbids the network."""
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_unreachable(timeout: float = REACH_TIMEOUT_S) -> str | None:
    """Why the hub cannot be reached (``"... cannot be reached (reason)"``), or None when a
    connection to it, or to the HTTPS proxy that leads to it, opens within ``timeout``."""
    try:
        from huggingface_hub.constants import ENDPOINT
    except ImportError:  # pragma: no cover - only called with huggingface_hub installed
        return None
    url = urllib.parse.urlsplit(ENDPOINT)
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(url.scheme or "https")
    if proxy and not urllib.request.proxy_bypass(host):
        parsed = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        target, where = (parsed.hostname or "", parsed.port or 8080), f"the proxy {parsed.hostname}"
    else:
        target, where = (host, port), f"the hub ({host})"
    try:
        with socket.create_connection(target, timeout=timeout):
            return None
    except (OSError, ValueError) as exc:
        return f"{where} cannot be reached ({one_line(exc, 80)})"


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
        if not (download if download is not None else not hub_offline()):
            raise ModelUnavailableError(advice("not in the local cache, hub offline")) from None
    except Exception as exc:  # a damaged cache entry, an unreadable cache folder
        raise ModelUnavailableError(advice(f"the local cache cannot be read: {one_line(exc, 160)}")) from None
    if hub_offline():  # a download asked for, but the network is forbidden: no connection tried
        raise ModelUnavailableError(
            advice("download failed: not in the local cache, and HF_HUB_OFFLINE is set")
        ) from None
    unreachable = hub_unreachable()
    if unreachable is not None:
        raise ModelUnavailableError(advice(f"not in the local cache, and {unreachable}")) from None
    try:
        return Path(fetch(False))
    except Exception as exc:  # any network or hub failure ends in the same advice
        raise ModelUnavailableError(advice(f"download failed: {one_line(exc, 200)}")) from None
