"""A site's defaults for the command line: the YAML file ``$STILLCAM_CONFIG`` names.

A studio sets its policy once for every user and every farm node (a login profile, a
container image, a Ray runtime environment) instead of on every command::

    # stillcam.yaml
    commercial_only: true          # --commercial-only on every command that takes it
    sign:                          # --sign KEY CERT on every command that takes it
      key: /studio/keys/previs.key
      cert: /studio/keys/previs.pem

The values are given to the command as if they were typed before the user's own options,
so what the user types wins where the option has an opposite (``--no-commercial-only``,
another ``--sign``). Relative paths are relative to the file. The file is read within the
bounds of :func:`~stillcam.io.structured.read_structured` and checked whole before any work:
an unknown key or a wrong type is one line naming it. Without ``$STILLCAM_CONFIG`` nothing
is read (no file in a home folder changes what a command does behind a user's back).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError
from .io.structured import read_structured, schema_message

#: The environment variable naming the file.
CONFIG_ENV = "STILLCAM_CONFIG"
#: The largest configuration file read.
MAX_CONFIG_BYTES = 64 << 10


class SignConfig(BaseModel):
    """``sign``: the private key and certificate chain (PEM files) of ``--sign KEY CERT``."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=4096)
    cert: str = Field(min_length=1, max_length=4096)


class SiteConfig(BaseModel):
    """The file's keys (module docstring); each one optional."""

    model_config = ConfigDict(extra="forbid")
    commercial_only: bool | None = None
    sign: SignConfig | None = None


def read_config(path: str | Path) -> SiteConfig:
    """The configuration in ``path``, checked.

    Raises:
        InputError: the file is missing, unreadable, too large, not YAML, or a key is unknown
            or of the wrong type (one line naming it, and the file).
    """
    data = read_structured(
        path, what="stillcam configuration", syntax="yaml", max_bytes=MAX_CONFIG_BYTES, why=f"(${CONFIG_ENV})"
    )
    if data is None:
        return SiteConfig()
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path} (${CONFIG_ENV}): {schema_message(exc)}") from None


def config_arguments(config: SiteConfig, base: Path, accepts: Sequence[str]) -> list[str]:
    """The command-line arguments ``config`` stands for, for a command whose options are
    ``accepts`` (option strings such as ``--sign``); relative paths made relative to ``base``."""
    argv: list[str] = []
    if config.commercial_only is not None and "--commercial-only" in accepts:
        if config.commercial_only:
            argv.append("--commercial-only")
        elif "--no-commercial-only" in accepts:
            argv.append("--no-commercial-only")
    if config.sign is not None and "--sign" in accepts:
        argv += ["--sign", *(str(base / Path(p).expanduser()) for p in (config.sign.key, config.sign.cert))]
    return argv


def site_arguments(accepts: Sequence[str]) -> list[str]:
    """:func:`config_arguments` of the file ``$STILLCAM_CONFIG`` names; ``[]`` when unset.

    Raises:
        InputError: as :func:`read_config`.
    """
    name = os.environ.get(CONFIG_ENV, "")
    if not name:
        return []
    path = Path(name).expanduser()
    return config_arguments(read_config(path), path.parent, accepts)
