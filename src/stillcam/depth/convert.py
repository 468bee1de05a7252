"""Turning stored depth-like values (depth, inverse depth, disparity) into metric z.

Rules (also in docs/conventions.md, "Depth kinds"):

- ``depth``: values are z along the optical axis. ``z = value * scale`` metres; when
  ``near`` and ``far`` are both given, values are instead remapped linearly so that the map's
  minimum lands on ``near`` and its maximum on ``far``.
- ``inverse-depth`` (relative, what monocular models emit; larger = closer): values are
  normalised to v in [0, 1] by the map's min/max, then ``1/z = 1/far + v * (1/near - 1/far)``,
  so v = 1 is at ``near`` and v = 0 at ``far`` (defaults 1 m and 20 m).
- ``disparity``: values times ``scale`` are pixels at the depth map's own resolution;
  ``z = f_px * baseline / d`` with ``f_px`` the photo's focal length scaled to the map's width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import cv2
import numpy as np

from ..bounds import check_fields, check_number
from ..conventions import focal_mm_to_px
from ..errors import DepthError
from ..io.depthfile import RawDepth
from ..io.image import Picture

DepthKind = Literal["depth", "inverse-depth", "disparity"]
DEPTH_KINDS: tuple[str, ...] = get_args(DepthKind)

DEFAULT_NEAR_M = 1.0
DEFAULT_FAR_M = 20.0
#: Largest --near, --far, --baseline (metres) and --depth-scale.
MAX_OPTION = 1e9
#: The metric depths a scene can be built from: a micrometre to 10^12 m (Blender writes 10^10
#: for the sky). Past these the scene's float32 geometry overflows into NaN.
MIN_Z_M = 1e-6
MAX_Z_M = 1e12


@dataclass(frozen=True)
class DepthSettings:
    """How to read a depth file. Field docs become ``--help`` text."""

    depth_kind: DepthKind = field(
        default="depth",
        metadata={
            "help": "what the depth file stores: depth (z in metres, times --depth-scale), "
            "inverse-depth (relative, larger = closer; placed between --near and --far), "
            "disparity (pixels; needs --baseline)"
        },
    )
    near: float | None = field(
        default=None,
        metadata={
            "help": "metres, 1e-6..1e9: nearest depth for inverse-depth (default 1), or min of a "
            "remapped depth map (with --far)"
        },
    )
    far: float | None = field(
        default=None,
        metadata={
            "help": "metres, 1e-6..1e9: farthest depth for inverse-depth (default 20), or max of a "
            "remapped depth map (with --near)"
        },
    )
    baseline: float | None = field(
        default=None, metadata={"help": "metres, (0, 1e9]: stereo baseline for --depth-kind disparity"}
    )
    depth_scale: float = field(
        default=1.0,
        metadata={
            "help": "multiplier on stored values, (0, 1e9]: metres per unit for depth "
            "(0.001 for millimetre PNGs), pixels per unit for disparity"
        },
    )
    depth_model: str = field(
        default="depth-anything-v2-small",
        metadata={
            "help": "model that estimates depth when no --depth file is given "
            "(`stillcam models` lists them with their licences)"
        },
    )
    model_dir: str | None = field(
        default=None,
        metadata={
            "metavar": "DIR",
            "help": "load the model from this folder (saved by save_pretrained; for MoGe-2, "
            "holding its .onnx file) instead of the Hugging Face cache",
        },
    )
    allow_noncommercial: bool = field(
        default=False,
        metadata={"help": "allow depth and fill models whose licence forbids commercial use"},
    )
    upsample: Literal["snap", "bilinear"] = field(
        default="snap",
        metadata={
            "help": "how a model's low-resolution depth is brought to the photo's size: snap "
            "(depth edges onto the photo's colour edges) or bilinear"
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)
        for name, value in (("--near", self.near), ("--far", self.far)):
            if value is not None:  # NaN and infinities are out of every range
                check_number(name, value, MIN_Z_M, MAX_OPTION, what="metres", error=DepthError)
        if self.baseline is not None:
            check_number(
                "--baseline", self.baseline, 0.0, MAX_OPTION, what="metres", open_low=True, error=DepthError
            )
        check_number(
            "--depth-scale",
            self.depth_scale,
            0.0,
            MAX_OPTION,
            what="a multiplier",
            open_low=True,
            error=DepthError,
        )
        if self.near is not None and self.far is not None:
            _check_near_far(self.near, self.far)


@dataclass(frozen=True, eq=False)
class DepthMap:
    """Metric depth at the photo's resolution.

    Attributes:
        z: (H, W) float32, metres along the optical axis (OpenCV camera), finite and > 0.
        source: human-readable origin, e.g. ``"file:depth.exr (inverse-depth, near 1, far 20)"``.
        sha256: hash of the source file (or array) the depth came from.
        metric: True when z is in real metres; False when its scale is a guess (relative
            depth placed between near and far, or a remapped map).
        origin: where it came from, for the recipe: ``{"path", "sha256"}`` of a depth file,
            or ``{"model", "revision", "cache", "sha256"}`` of a model's cached estimate.
    """

    z: np.ndarray = field(repr=False)
    source: str
    sha256: str
    metric: bool = True
    origin: dict[str, Any] = field(default_factory=dict)


def _check_values(raw: RawDepth) -> None:
    values = raw.values
    if values.ndim != 2 or min(values.shape, default=0) < 2:
        raise DepthError(f"{raw.name}: depth must be a 2-D map of at least 2x2, got shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        raise DepthError(
            f"{raw.name}: depth has {int(bad.sum())} NaN/infinite values; fill them before use "
            "(e.g. with the farthest valid depth)"
        )
    if (values < 0).any():
        raise DepthError(
            f"{raw.name}: depth has {int((values < 0).sum())} negative values; depth must be >= 0"
        )


def _check_z(z: np.ndarray, raw: RawDepth, settings: DepthSettings) -> None:
    """Refuse metric depth outside [:data:`MIN_Z_M`, :data:`MAX_Z_M`] (or not finite), naming
    the option that scales it; ``z`` is float64, so nothing has overflowed yet."""
    finite = np.isfinite(z)
    low = float(z[finite].min()) if finite.any() else math.nan
    high = float(z[finite].max()) if finite.any() else math.nan
    smallest, largest = MIN_Z_M * (1 - 1e-6), MAX_Z_M * (1 + 1e-6)  # the bounds as float32 values
    if finite.all() and smallest <= low and high <= largest:
        return
    outside = int((~finite | (z < smallest) | (z > largest)).sum())
    hint = {
        "depth": "check --depth-scale (metres per stored unit) or give --near and --far to remap the map",
        "disparity": "check --baseline and --depth-scale (pixels per stored unit)",
    }.get(settings.depth_kind, "check --near and --far")
    raise DepthError(
        f"{raw.name}: {outside} depth values come out beyond {MIN_Z_M:g}..{MAX_Z_M:g} m "
        f"(from {low:.3g} to {high:.3g} m, {settings.depth_kind}); {hint}"
    )


def _normalised(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.ones_like(values)
    return (values - low) / (high - low)


def depth_from_raw(raw: RawDepth, settings: DepthSettings, *, focal_px: float) -> np.ndarray:
    """Convert stored values to metric z (H, W) float32 at the raw map's own resolution.

    Args:
        raw: the map as read from its file.
        settings: kind, near/far, baseline, scale.
        focal_px: the photo's focal length in pixels at the RAW MAP's width (for disparity).

    Raises:
        DepthError: NaN/inf/negative values, zero depth or disparity, missing baseline,
            near >= far, metric depth outside [:data:`MIN_Z_M`, :data:`MAX_Z_M`].
    """
    _check_values(raw)
    kind, near, far = settings.depth_kind, settings.near, settings.far  # ranges: DepthSettings
    values = raw.values.astype(np.float64)
    if kind == "depth":
        if near is not None and far is not None:
            _check_near_far(near, far)
            z = near + _normalised(values) * (far - near)
        else:
            if (values <= 0).any():
                raise DepthError(
                    f"{raw.name}: depth has {int((values <= 0).sum())} zero values; depth must be "
                    "> 0 (or give --near and --far to remap it)"
                )
            z = values * settings.depth_scale
    elif kind == "inverse-depth":
        near = DEFAULT_NEAR_M if near is None else near
        far = DEFAULT_FAR_M if far is None else far
        _check_near_far(near, far)
        z = 1.0 / (1.0 / far + _normalised(values) * (1.0 / near - 1.0 / far))
    elif kind == "disparity":
        if settings.baseline is None or settings.baseline <= 0:
            raise DepthError("--depth-kind disparity needs --baseline METRES (> 0)")
        if (values <= 0).any():
            raise DepthError(
                f"{raw.name}: disparity has {int((values <= 0).sum())} zero values (unknown or "
                "infinitely far); fill them before use"
            )
        z = focal_px * settings.baseline / (values * settings.depth_scale)
    else:
        raise DepthError(f"unknown depth kind {kind!r}; choose one of {', '.join(DEPTH_KINDS)}")
    _check_z(z, raw, settings)
    return z.astype(np.float32)


def _check_near_far(near: float, far: float) -> None:
    if near >= far:
        raise DepthError(f"--near ({near}) must be smaller than --far ({far})")


def resample_depth(z: np.ndarray, width: int, height: int, *, name: str = "depth") -> np.ndarray:
    """Bilinearly resample (h, w) depth to (height, width); the aspect must match within 1 %.

    Resampling is done on inverse depth, so that a depth edge blends between the two
    disparities rather than producing far-away midpoints.

    Raises:
        DepthError: the aspect ratios differ by more than 1 %.
    """
    h, w = z.shape
    if (h, w) == (height, width):
        return z
    if abs((w / h) / (width / height) - 1.0) > 0.01:
        raise DepthError(
            f"{name}: depth map is {w}x{h} but the photo is {width}x{height}; their aspect "
            "ratios differ, give a depth map of the photo's aspect ratio"
        )
    inverse = cv2.resize(1.0 / z, (width, height), interpolation=cv2.INTER_LINEAR)
    return (1.0 / inverse).astype(np.float32)


def depth_map_of_file(raw: RawDepth, file: str | Path, picture: Picture, settings: DepthSettings) -> DepthMap:
    """The photo's metric depth from a depth file as read (``raw``, from ``file``): its values
    interpreted by ``settings`` at the file's own resolution, then resampled to the photo.

    Args:
        raw: the file's map (:func:`stillcam.io.depthfile.read_depth_file`).
        file: where it was read from (for the recipe).
        picture: the photo (its size and focal length; disparity needs the focal).
        settings: kind, near/far, baseline, scale.
    """
    raw_w = raw.values.shape[1]
    focal_px = focal_mm_to_px(picture.focal_mm, picture.width, picture.height) * raw_w / picture.width
    z = depth_from_raw(raw, settings, focal_px=focal_px)
    z = resample_depth(z, picture.width, picture.height, name=raw.name)
    source = f"file:{raw.name} ({settings.depth_kind}"
    if settings.depth_kind == "inverse-depth" or (settings.near is not None and settings.far is not None):
        source += f", near {settings.near}, far {settings.far}"
    metric = settings.depth_kind != "inverse-depth" and (settings.near is None or settings.far is None)
    origin = {"path": str(Path(file).resolve()), "sha256": raw.sha256}
    return DepthMap(z, source + ")", raw.sha256, metric=metric, origin=origin)
