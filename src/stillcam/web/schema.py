"""The API's request bodies as pydantic models, made from the option sections' own fields.

Every option a request may carry is a field of :class:`Options`, typed from its section
dataclass (``ShotSettings``, ``DepthSettings``, ...): strings must be strings, numbers finite
numbers (not ``true``), integers integers, choices one of their values; unknown names are
refused. The models only type-check; the values' ranges and meanings are checked by the
sections themselves when :class:`~stillcam.options.RenderOptions` is built
(:func:`stillcam.web.server`). Both answer 422 naming the field.

Clients never name server-side files: ``camera_file`` is the id of a camera file uploaded to
``/api/cameras``, and the folders ``model_dir`` and ``fill_model_dir`` are refused.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, fields
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..options import SECTIONS
from .jobs import MAX_NOTE

#: An upload's id: 32 lowercase hex digits (128 random bits).
UPLOAD_ID = r"^[0-9a-f]{32}$"
#: Longest text option (a move expression, a timecode...), in characters.
MAX_TEXT = 4096
#: Most items of a list option (``params``, ``passes``).
MAX_ITEMS = 64
#: Option fields that would name a server-side folder: not accepted from clients.
SERVER_PATHS = ("model_dir", "fill_model_dir")
#: Option fields that name a file: given as the id of an upload instead.
UPLOADED_FILES = ("camera_file",)
#: Example values of the options written in a syntax of their own (the docs page shows them;
#: schema-driven tests start from them).
EXAMPLES: dict[str, list[Any]] = {
    "move": [
        "orbit(degrees=12)",
        "dolly-in(fraction=0.2, duration=2) then pan(degrees=15) + handheld(seed=3)",
    ],
    "params": [["degrees=20"]],
    "fps": ["24", "24000/1001", "25"],
    "easing": ["linear", "bezier(0.42,0,0.58,1)"],
    "size": ["source", "HD", "640x360"],
    "frames": ["1001-1012"],
    "target": ["0.5,0.4"],
    "timecode": ["01:00:00:00"],
    "guides": ["2.39,1.85,safe"],
    "passes": [["depth"]],
    "fstop": [2.8],
    "focus": ["subject", "2.5", "0.5,0.4"],
    "shutter": [180.0],
}

_INT = Annotated[int, Field(strict=True, ge=-(2**31), le=2**31 - 1)]
_FLOAT = Annotated[float, Field(strict=True, allow_inf_nan=False)]
_TEXT = Annotated[str, Field(strict=True, max_length=MAX_TEXT)]
_BOOL = Annotated[bool, Field(strict=True)]
_SCALARS: dict[Any, Any] = {int: _INT, float: _FLOAT, str: _TEXT, bool: _BOOL}


def _json_type(hint: Any, name: str) -> Any:
    """The pydantic type that accepts exactly the JSON values an option of type ``hint`` may take."""
    if hint in _SCALARS:
        return _SCALARS[hint]
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return hint  # the value is then one of the choices, exactly
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return _json_type(inner, name) | None
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return Annotated[list[_json_type(args[0], name)], Field(max_length=MAX_ITEMS)]
    if origin is tuple and args and all(a is args[0] for a in args):
        item = _json_type(args[0], name)
        return Annotated[list[item], Field(min_length=len(args), max_length=len(args))]
    raise TypeError(f"option {name}: no JSON type for {hint!r}; add one to stillcam.web.schema")


def _option_fields() -> dict[str, Any]:
    """Field name -> (type, Field) of every option a client may give."""
    result: dict[str, Any] = {}
    for section in SECTIONS.values():
        hints = typing.get_type_hints(section)
        for f in fields(section):
            if f.name in SERVER_PATHS:
                continue
            help_text = f.metadata.get("help", "")
            if f.name in UPLOADED_FILES:
                kind = Annotated[str, Field(strict=True, pattern=UPLOAD_ID)] | None
                help_text = "the id of a camera file uploaded to /api/cameras (instead of move): " + help_text
                result[f.name] = (kind, Field(default=None, description=help_text))
                continue
            default = f.default if f.default is not MISSING else None
            default = list(default) if isinstance(default, tuple) else default
            kind = _json_type(hints[f.name], f.name)
            examples = EXAMPLES.get(f.name)
            result[f.name] = (kind, Field(default=default, description=help_text, examples=examples))
    return result


#: The options of a render, by their flat names (``move``, ``duration``, ``stride``...).
Options = create_model(
    "Options",
    __config__=ConfigDict(extra="forbid"),
    __doc__="Render options by their flat names (those of `stillcam render`'s flags); "
    "each missing one keeps its default.",
    **_option_fields(),
)


class ShotRequest(BaseModel):
    """A preview or render request: an uploaded photo and the options of the shot."""

    model_config = ConfigDict(extra="forbid")

    photo: Annotated[str, Field(strict=True, pattern=UPLOAD_ID, description="the id /api/photos returned")]
    options: Options = Field(default_factory=Options)  # type: ignore[valid-type]

    def flat_options(self) -> dict[str, Any]:
        """The options the client gave (unset ones left out, so they keep their defaults)."""
        return self.options.model_dump(exclude_unset=True)


class FrameRequest(ShotRequest):
    """A lens preview request: a shot request and which of its frames to render."""

    index: Annotated[
        int,
        Field(
            strict=True,
            ge=0,
            le=2**31 - 1,
            description="the frame, 0-based (0 = the shot's first frame, whatever its number)",
        ),
    ]


class NoteRequest(BaseModel):
    """A version's note (replaces the one it had; "" clears it)."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[
        str, Field(strict=True, max_length=MAX_NOTE, description=f"at most {MAX_NOTE} characters")
    ]


class ApproveRequest(BaseModel):
    """Approve a version: queue its full-quality render (the version's options with
    ``supersample`` 2, or its own when higher), at another ``size`` when given."""

    model_config = ConfigDict(extra="forbid")

    size: Annotated[str, Field(strict=True, max_length=64, examples=["UHD", "1920x1080"])] | None = Field(
        default=None, description="the output size (as the option size); default: the version's own"
    )


def validation_message(errors: list[dict[str, Any]]) -> str:
    """One line for pydantic's (or FastAPI's) validation ``errors``, each naming its field
    (``options.duration: Input should be a valid number``); at most three are listed."""
    parts = []
    for error in errors[:3]:
        loc = [str(p) for p in error.get("loc", ())]
        loc = loc[1:] if loc[:1] in (["body"], ["query"], ["path"], ["header"]) else loc
        where = ".".join(loc) or "body"
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "extra_forbidden" and loc[:1] == ["options"] and len(loc) == 2:
            message = _unknown_option(loc[1])
        elif error.get("type") == "extra_forbidden":
            message = "unknown field"
        parts.append(f"{where}: {message}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _unknown_option(name: str) -> str:
    if name in SERVER_PATHS:
        return "the web app takes no server-side paths from clients; leave it out"
    if name == "path":
        return "unknown option 'path'; upload the camera file to /api/cameras and give its id as camera_file"
    return f"unknown option {name!r}; valid options: {', '.join(sorted(Options.model_fields))}"
