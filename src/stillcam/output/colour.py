"""Colour spaces of the outputs.

Photos are read as sRGB-encoded Rec.709 (docs/conventions.md); PNG frames and videos keep that
encoding (videos are tagged BT.709). EXR frames are scene-linear, as compositing expects:
``lin_rec709`` (linear, Rec.709/sRGB primaries, D65; the sRGB curve undone by the formula of
IEC 61966-2-1) or ``ACEScg`` (linear, AP1 primaries), the latter through OpenColorIO's built-in
ACES CG config, pinned to :data:`OCIO_CONFIG` (its name goes into the recipe).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from ..errors import InputError, missing_extra

OutputColourspace = Literal["lin_rec709", "ACEScg"]
OUTPUT_COLOURSPACES: tuple[str, ...] = get_args(OutputColourspace)
#: OpenColorIO built-in config used for ACEScg (ACES 1.3 colour spaces; in OCIO >= 2.4).
OCIO_CONFIG = "cg-config-v2.2.0_aces-v1.3_ocio-v2.4"
#: EXR ``chromaticities`` attribute (red xy, green xy, blue xy, white xy) of each space.
CHROMATICITIES = {
    "lin_rec709": (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
    "ACEScg": (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
}


def linear_from_srgb(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light (IEC 61966-2-1), float32."""
    v = np.asarray(values, np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _ocio_processor(target: str):
    try:
        import PyOpenColorIO as ocio
    except ImportError:
        raise missing_extra("opencolorio (for --output-colorspace ACEScg)", "color") from None
    config = ocio.Config.CreateFromBuiltinConfig(OCIO_CONFIG)
    return config.getProcessor("Linear Rec.709 (sRGB)", target).getDefaultCPUProcessor()


def check_colourspace(name: str) -> None:
    """Refuse unknown spaces, and ACEScg without OpenColorIO, before any work."""
    if name not in OUTPUT_COLOURSPACES:
        raise InputError(f"--output-colorspace {name!r}: choose one of {', '.join(OUTPUT_COLOURSPACES)}")
    if name == "ACEScg":
        _ocio_processor("ACEScg")


def scene_linear(srgb: np.ndarray, space: str) -> np.ndarray:
    """(..., 3) sRGB-encoded colours -> linear colours in ``space`` (float32)."""
    linear = linear_from_srgb(srgb)
    if space == "lin_rec709":
        return linear
    flat = np.ascontiguousarray(linear.reshape(-1, 3))
    _ocio_processor(space).applyRGB(flat)
    return flat.reshape(linear.shape)


def ocio_record(space: str) -> dict[str, str]:
    """What the recipe records about a space: the OCIO config and library version, if used."""
    if space != "ACEScg":
        return {"space": space}
    import PyOpenColorIO as ocio

    return {"space": space, "ocio_config": OCIO_CONFIG, "ocio_version": ocio.__version__}
