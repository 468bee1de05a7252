"""QC specs: the limits a delivery is checked against, a small YAML file.

Every field is optional; a field that is given is a check (``stillcam qc --spec``). A spec
is read by the bounded reader (:func:`~stillcam.io.structured.read_structured`) and checked
by :class:`QcSpec`; an error names the field (``bit_depth: must be an integer (got 'ten')``).
Specs shipped with stillcam (``stillcam/qc/specs/*.yaml``) are chosen by name::

    stillcam qc shot.mov --spec uhd-prores-422hq
    stillcam qc shot.mp4 --spec ./our-house-spec.yaml
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..conventions import parse_fps
from ..errors import InputError
from ..io.structured import read_structured, schema_message

#: The largest spec file read (they are a few hundred bytes).
MAX_SPEC_BYTES = 64 * 1024
_Name = Annotated[str, Field(min_length=1, max_length=200)]
_Side = Annotated[int, Field(ge=2, le=32768)]
_Forbid = ConfigDict(extra="forbid", allow_inf_nan=False)


class ColourSpec(BaseModel):
    """Colour tags a delivery must carry, by FFmpeg's names (``bt709``, ``limited``)."""

    model_config = _Forbid
    primaries: _Name | None = None
    transfer: _Name | None = None
    matrix: _Name | None = None
    range: Literal["limited", "full"] | None = None


class QcSpec(BaseModel):
    """The limits of one delivery (``stillcam qc --spec``).

    Attributes:
        name: what the spec is called in reports.
        description: one line for people.
        width, height: the frame size in pixels.
        codec: FFmpeg's decoder name (``prores``, ``h264``, ``hevc``, ``dnxhd``, ``ffv1``,
            ``png``, ``exr``).
        fourcc: the stream's codec tag (``apch`` = ProRes 422 HQ, ``avc1``).
        profile: the codec's profile as FFmpeg names it (``HQ``, ``High``, ``Main 10``).
        bit_depth: bits per sample.
        chroma: chroma subsampling.
        alpha: whether the frames must (true) or must not (false) carry alpha.
        colour: colour tags.
        fps: the frame rates allowed, exact (``24000/1001``, ``23.976``, ``25``).
        timecode: true: a start timecode must be present.
        max_upscale: the most output pixels per photo pixel (1.0: no upscaling); always
            checked, 1.0 when not given.
        max_reveal: the largest fraction of a frame that the photo never saw (the motion
            guard's measure), in [0, 1].
        commercial_only: every model used must allow commercial use.
        credential: true: a valid content credential must be present.
    """

    model_config = _Forbid
    name: _Name
    description: Annotated[str, Field(max_length=1000)] = ""
    width: _Side | None = None
    height: _Side | None = None
    codec: _Name | None = None
    fourcc: Annotated[str, Field(min_length=4, max_length=4)] | None = None
    profile: _Name | None = None
    bit_depth: Annotated[int, Field(ge=1, le=32)] | None = None
    chroma: Literal["4:2:0", "4:2:2", "4:4:4", "4:1:1"] | None = None
    alpha: bool | None = None
    colour: ColourSpec | None = None
    fps: Annotated[list[Annotated[str, Field(max_length=40)]], Field(min_length=1, max_length=32)] | None = (
        None
    )
    timecode: bool | None = None
    max_upscale: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0
    max_reveal: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    commercial_only: bool = False
    credential: bool = False

    @field_validator("chroma", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        """YAML reads an unquoted 4:2:2 as a base-60 number (14522)."""
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(
                f"write it in quotes, e.g. '4:2:2' (YAML reads it unquoted as the number {value})"
            )
        return value

    @field_validator("fps", mode="before")
    @classmethod
    def _rates(cls, value: object) -> object:
        """Numbers (``25``, ``23.976``) as text; each must be a frame rate ``parse_fps`` reads."""
        if not isinstance(value, list):
            return value
        rates = [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
        for rate in rates:
            if isinstance(rate, str):
                try:
                    parse_fps(rate)
                except InputError as exc:
                    raise ValueError(f"{rate!r} is not a frame rate ({exc})") from None
        return rates


#: The spec used without ``--spec``: only the upscale check (no upscaling).
DEFAULT_SPEC = QcSpec(name="default (no upscaling)")


def spec_names() -> list[str]:
    """The names of the specs shipped with stillcam (``stillcam/qc/specs/NAME.yaml``), sorted."""
    folder = resources.files("stillcam.qc") / "specs"
    return sorted(item.name[: -len(".yaml")] for item in folder.iterdir() if item.name.endswith(".yaml"))


def shipped_specs() -> dict[str, str]:
    """Name -> description of the specs shipped with stillcam."""
    return {name: load_spec(name).description for name in spec_names()}


def _spec_file(name_or_path: str) -> tuple[Path | None, str]:
    """(file, shown name): a shipped spec's file by name, or the path as given."""
    if "/" not in name_or_path and not name_or_path.endswith((".yaml", ".yml", ".json")):
        item = resources.files("stillcam.qc") / "specs" / f"{name_or_path}.yaml"
        if not item.is_file():
            return None, name_or_path
        return Path(str(item)), name_or_path
    return Path(name_or_path), name_or_path


def load_spec(name_or_path: str) -> QcSpec:
    """The spec called ``name_or_path`` (a shipped one) or in that YAML/JSON file.

    Raises:
        InputError: an unknown name (the shipped ones listed), a file that cannot be read
            (see :func:`~stillcam.io.structured.read_structured`), or a bad field, named.
    """
    path, shown = _spec_file(name_or_path)
    if path is None:
        raise InputError(
            f"--spec {shown!r}: no such shipped spec ({', '.join(spec_names())}); or give a spec file's path"
        )
    syntax = "json" if path.suffix.lower() == ".json" else "yaml"
    data = read_structured(path, what="QC spec", syntax=syntax, max_bytes=MAX_SPEC_BYTES)
    try:
        return QcSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: {schema_message(exc)}") from None
