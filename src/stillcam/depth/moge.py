"""MoGe-2 (Microsoft, github.com/microsoft/MoGe): metric depth and the camera's field of view
from one photo, run by ONNX Runtime on the CPU.

Why ONNX Runtime and not torch: the authors publish ONNX exports of the MoGe-2 weights
(``Ruicheng/moge-2-vit{s,b,l}-normal-onnx``, their ``MoGeModel.forward``), so stillcam needs
no copy of MoGe's torch modules (DINOv2 encoder, convolutional neck and heads) and not the
``moge`` and ``utils3d`` packages, which are not on the package index; ONNX Runtime runs with
fixed thread counts and deterministic compute (:mod:`stillcam.io.onnx`), and no torch. What
the export leaves out, ``MoGeModel.infer``'s post-processing (focal length and z shift
recovered from the affine point map, the metric scale, the mask), is done here in NumPy/SciPy.

The graph's contract (MoGe ``docs/onnx.md`` and ``moge/model/v2.py``):

=================  =========================================================================
``image``          in, (B, 3, H, W) float32, RGB in [0, 1]; the graph subtracts the ImageNet
                   mean, divides by the std and resizes to its token grid itself
``num_tokens``     in, int64 scalar: ViT patches the image is cut into (rows x cols about
                   ``num_tokens``, at the image's aspect; 14 px patches). Static exports have
                   no such input (their token count is fixed)
``points``         out, (B, H, W, 3) float32: an *affine* point map, OpenCV axes (x right,
                   y down, z forward), known up to one scale and a shift of z
``normal``         out, (B, H, W, 3), unused
``mask``           out, (B, H, W) float32 in [0, 1]: the chance that a pixel has a finite
                   depth (sky: near 0)
``metric_scale``   out, (B,) float32: metres per unit of ``points``
=================  =========================================================================

From those to stillcam's depth (docs/conventions.md, "Depth from a model"):

1. Each pixel's view-plane coordinates ``uv = (x - (W - 1) / 2, y - (H - 1) / 2) / (D / 2)``,
   ``D = hypot(W, H)`` (pixel centres at integers; :func:`view_plane_uv`).
2. On a 64 x 64 nearest-neighbour sample of the pixels whose mask is above 0.5, the shift
   ``s`` (and the focal length ``f``, in half-diagonals, unless EXIF or the user gave one)
   minimising ``sum |f (x, y) / (z + s) - uv|^2`` (:func:`solve_focal_shift`).
3. ``z_metres = (z + s) * metric_scale``, clipped to [1 mm, :data:`FAR_M`]; pixels with mask
   <= 0.5 or ``z + s <= 0`` (the sky) are put :data:`SKY_FACTOR` times farther than the
   farthest surfaces (99th percentile), at most :data:`FAR_M`: nearly no parallax, and the
   scene keeps a finite size.
4. Horizontal field of view ``2 atan(W / (f D))`` (:func:`hfov_of_focal`).
"""

from __future__ import annotations

import hashlib
import math
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import InputError
from ..io.onnx import cpu_session
from ..io.onnx import onnxruntime_module as _onnxruntime

#: MoGe-2's token range (``num_tokens_range`` of its configs) and the count stillcam asks for:
#: resolution level 9 of 0..9, the top of the range, ``MoGeModel.infer``'s default.
TOKEN_RANGE = (1200, 3600)
NUM_TOKENS = 3600
PATCH_PX = 14
#: A pixel counts as a surface when its mask is above this (as in ``MoGeModel.infer``).
MASK_THRESHOLD = 0.5
#: Samples per side of the grid the focal length and shift are solved on.
SOLVE_GRID = 64
#: The farthest metric depth (the cap of every metric model's depth in stillcam): 10 km.
FAR_M = 1e4
#: Masked pixels (the sky) are this many times farther than the farthest surfaces.
SKY_FACTOR = 10.0
#: The graph's names (MoGe ``docs/onnx.md``).
IMAGE, TOKENS, POINTS, MASK, SCALE = "image", "num_tokens", "points", "mask", "metric_scale"

_SESSIONS: dict[tuple[str, int, int], Any] = {}
_LOCK = threading.Lock()


def onnxruntime_module() -> Any:
    """The onnxruntime module, or the install hint (extra ``models``)."""
    return _onnxruntime("models")


def onnx_file(folder: Path) -> Path:
    """The graph in ``folder``: ``model.onnx``, else the folder's only ``.onnx`` file.

    Raises:
        InputError: no such file, or several without a ``model.onnx``.
    """
    if (folder / "model.onnx").is_file():
        return folder / "model.onnx"
    found = sorted(p for p in folder.glob("*.onnx") if p.is_file()) if folder.is_dir() else []
    if len(found) != 1:
        what = "no .onnx file" if not found else f"{len(found)} .onnx files and no model.onnx"
        raise InputError(f"--model-dir {folder}: {what} there; give the folder holding MoGe-2's ONNX graph")
    return found[0]


def dir_revision(folder: Path) -> str:
    """``dir:`` + a hash of the graph's name, size and first MiB (a local folder's revision)."""
    file = onnx_file(folder)
    digest = hashlib.sha256(f"{file.name}:{file.stat().st_size}".encode())
    with file.open("rb") as handle:
        digest.update(handle.read(1 << 20))
    return "dir:" + digest.hexdigest()[:16]


def input_size(width: int, height: int, num_tokens: int = NUM_TOKENS) -> tuple[int, int]:
    """(w, h) the photo is brought to before the graph: the token grid's pixel area
    (``num_tokens * 14^2``) at the photo's aspect, never larger than the photo. The graph
    resizes it to its grid again by a factor near 1 (so no aliasing, though it does not
    antialias), and returns maps of this size.

    >>> input_size(4000, 3000)
    (970, 727)
    >>> input_size(160, 90)
    (160, 90)
    """
    scale = min(1.0, PATCH_PX * math.sqrt(num_tokens / (width * height)))
    return max(2, round(width * scale)), max(2, round(height * scale))


def view_plane_uv(width: int, height: int) -> np.ndarray:
    """(H, W, 2) float64 view-plane coordinates of pixel centres: (u, v) = (x - cx, y - cy) /
    (D / 2), centre ((W - 1) / 2, (H - 1) / 2), D = hypot(W, H); the corners' centres lie
    just inside (+-W/D, +-H/D).

    >>> uv = view_plane_uv(4, 3)
    >>> uv[0, 0].round(3).tolist(), uv[1, 1].tolist(), uv[2, 3].round(3).tolist()
    ([-0.6, -0.4], [-0.2, 0.0], [0.6, 0.4])
    """
    half = math.hypot(width, height) / 2.0
    u = (np.arange(width) - (width - 1) / 2.0) / half
    v = (np.arange(height) - (height - 1) / 2.0) / half
    return np.stack(np.meshgrid(u, v, indexing="xy"), axis=-1)


def hfov_of_focal(focal: float, width: int, height: int) -> float:
    """Horizontal field of view in degrees of a focal length in half-diagonals.

    >>> round(hfov_of_focal(0.8, 4, 3), 6)  # 0.8 half-diagonals = 2 px = half the width
    90.0
    """
    return math.degrees(2.0 * math.atan(width / (focal * math.hypot(width, height))))


def focal_of_hfov(hfov_degrees: float, width: int, height: int) -> float:
    """The focal length in half-diagonals of a horizontal field of view in degrees
    (inverse of :func:`hfov_of_focal`)."""
    return width / (math.hypot(width, height) * math.tan(math.radians(hfov_degrees) / 2.0))


def _sample(points: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The valid pixels' points (n, 3) and uv (n, 2) on a SOLVE_GRID^2 nearest sample."""
    height, width = valid.shape
    rows = (np.arange(SOLVE_GRID) * height) // SOLVE_GRID
    cols = (np.arange(SOLVE_GRID) * width) // SOLVE_GRID
    keep = valid[np.ix_(rows, cols)]
    uv = view_plane_uv(width, height)[np.ix_(rows, cols)]
    return points[np.ix_(rows, cols)][keep].astype(np.float64), uv[keep]


def solve_focal_shift(
    points: np.ndarray, valid: np.ndarray, focal: float | None = None
) -> tuple[float | None, float]:
    """The focal length (half-diagonals) and z shift that make an affine point map a
    perspective one: ``min over s (and f) of sum |f (x, y) / (z + s) - uv|^2``.

    Args:
        points: (H, W, 3) affine point map (OpenCV axes, any scale).
        valid: (H, W) bool, the pixels to fit.
        focal: the known focal length in half-diagonals (only the shift is solved), or None.

    Returns:
        (focal, shift): ``focal`` None when it was not known and fewer than two pixels fit
        (then the shift is 0).
    """
    from scipy.optimize import least_squares

    xyz, uv = _sample(points, valid)
    if len(xyz) < 2:
        return focal, 0.0
    xy, z, target = xyz[:, :2], xyz[:, 2], uv.ravel()
    span = float(np.abs(z).max()) or 1.0

    def projected(shift: float) -> np.ndarray:
        return xy / (z + shift)[:, None]

    def best_focal(p: np.ndarray) -> float:
        return float((p * uv).sum() / max(float((p * p).sum()), 1e-300))

    def residual(x: np.ndarray) -> np.ndarray:
        p = projected(float(x[0]))
        return ((focal if focal is not None else best_focal(p)) * p).ravel() - target

    low = -float(z.min()) + 1e-6 * span  # every fitted point stays in front of the camera
    start = max(0.0, low + 1e-3 * span)
    shift = float(least_squares(residual, [start], bounds=([low], [np.inf]), x_scale=[span]).x[0])
    return (focal if focal is not None else best_focal(projected(shift))), shift


def metric_depth(
    points: np.ndarray, mask: np.ndarray, metric_scale: float, focal: float | None = None
) -> tuple[np.ndarray, float | None]:
    """Metric z and the focal length from the graph's outputs for one image.

    Args:
        points: (H, W, 3) float32 affine point map.
        mask: (H, W) float32 in [0, 1].
        metric_scale: metres per unit of ``points``.
        focal: known focal length in half-diagonals, or None to estimate it.

    Returns:
        (z, focal): z (H, W) float32 metres in [1 mm, :data:`FAR_M`]; where masked out (mask
        <= 0.5, or behind the camera after the shift) :data:`SKY_FACTOR` times the 99th
        percentile of the rest (:data:`FAR_M` when nothing is left); focal in half-diagonals
        (None: not estimated).
    """
    valid = (mask > MASK_THRESHOLD) & np.isfinite(points).all(axis=-1)
    focal, shift = solve_focal_shift(np.nan_to_num(points), valid, focal)
    with np.errstate(invalid="ignore", over="ignore"):
        z = (np.nan_to_num(points[..., 2]).astype(np.float64) + shift) * float(metric_scale)
    valid &= np.isfinite(z) & (z > 0)
    z = np.clip(np.nan_to_num(z), 1e-3, FAR_M)
    sky = min(FAR_M, SKY_FACTOR * float(np.percentile(z[valid], 99))) if valid.any() else FAR_M
    return np.where(valid, z, sky).astype(np.float32), focal


def session(file: Path) -> Any:
    """The ONNX Runtime session of ``file`` (CPU, fixed threads; two kept loaded), after
    checking the graph has MoGe-2's inputs and outputs.

    Raises:
        InputError: not a loadable ONNX graph, or another contract.
    """
    stat = file.stat()
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    with _LOCK:
        if key in _SESSIONS:
            return _SESSIONS[key]
    onnxruntime_module()  # the install hint, outside the try below
    try:
        loaded = cpu_session(file, "models")
    except Exception as exc:  # a corrupt or foreign file
        raise InputError(f"depth model MoGe-2: {file} is not a loadable ONNX graph ({exc})") from None
    _check_contract(loaded, file)
    with _LOCK:
        while len(_SESSIONS) >= 2:
            _SESSIONS.pop(next(iter(_SESSIONS)))
        _SESSIONS[key] = loaded
    return loaded


def _check_contract(loaded: Any, file: Path) -> None:
    inputs = {i.name: i.type for i in loaded.get_inputs()}
    outputs = {o.name: o.type for o in loaded.get_outputs()}
    wanted = {POINTS, MASK, SCALE}
    if (
        inputs.get(IMAGE) != "tensor(float)"
        or inputs.get(TOKENS, "tensor(int64)") != "tensor(int64)"
        or set(inputs) - {IMAGE, TOKENS}
        or any(outputs.get(name) != "tensor(float)" for name in wanted)
    ):
        raise InputError(
            f"depth model MoGe-2: {file} has inputs {inputs} and outputs {outputs}; expected "
            f"{IMAGE} (float) and optionally {TOKENS} (int64) in, {', '.join(sorted(wanted))} (float) out"
        )


def _graph_input(loaded: Any, rgb: np.ndarray, num_tokens: int) -> dict[str, np.ndarray]:
    """The feeds: the photo resized (area) to :func:`input_size`, or to a static graph's size."""
    height, width = rgb.shape[:2]
    shape = next(i.shape for i in loaded.get_inputs() if i.name == IMAGE)
    fixed = len(shape) == 4 and all(isinstance(d, int) and d > 0 for d in shape[2:])
    size = (shape[3], shape[2]) if fixed else input_size(width, height, num_tokens)
    small = rgb if size == (width, height) else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    image = np.ascontiguousarray(small.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255.0)
    feeds = {IMAGE: image}
    if any(i.name == TOKENS for i in loaded.get_inputs()):
        feeds[TOKENS] = np.array(num_tokens, dtype=np.int64)
    return feeds


def run_moge(
    file: Path, rgb: np.ndarray, *, hfov_degrees: float | None = None, num_tokens: int = NUM_TOKENS
) -> tuple[np.ndarray, float | None]:
    """Run the MoGe-2 graph in ``file`` on a photo.

    Args:
        rgb: (H, W, 3) uint8 sRGB photo.
        hfov_degrees: the photo's known horizontal field of view (EXIF or the user's), or None
            for the model to estimate it.
        num_tokens: ViT tokens (``TOKEN_RANGE``; more is finer and slower).

    Returns:
        (z, hfov): z (h, w) float32 metric depth at the model's size (same aspect as the
        photo), far behind the rest where masked (:func:`metric_depth`); the estimated
        horizontal field of view in degrees, or None when it was given or not estimable.

    Raises:
        InputError: the file is not MoGe-2's graph, or its outputs have other shapes.
    """
    loaded = session(file)
    feeds = _graph_input(loaded, rgb, num_tokens)
    height, width = feeds[IMAGE].shape[2:]
    known = None if hfov_degrees is None else focal_of_hfov(hfov_degrees, width, height)
    points, mask, scale = loaded.run([POINTS, MASK, SCALE], feeds)
    if points.shape != (1, height, width, 3) or mask.shape != (1, height, width) or scale.size != 1:
        raise InputError(
            f"depth model MoGe-2: {file} returned points {points.shape}, mask {mask.shape}, "
            f"metric_scale {scale.shape} for an image of {width}x{height}; expected (1, {height}, "
            f"{width}, 3), (1, {height}, {width}) and (1,)"
        )
    z, focal = metric_depth(points[0], mask[0], float(scale.reshape(-1)[0]), known)
    if known is not None or focal is None or not math.isfinite(focal) or focal <= 0:
        return z, None
    hfov = hfov_of_focal(focal, width, height)
    return z, (hfov if 1.0 < hfov < 179.0 else None)


__all__ = [
    "FAR_M",
    "NUM_TOKENS",
    "SKY_FACTOR",
    "dir_revision",
    "focal_of_hfov",
    "hfov_of_focal",
    "input_size",
    "metric_depth",
    "onnx_file",
    "run_moge",
    "solve_focal_shift",
    "view_plane_uv",
]
