"""A textured triangle mesh from a photo and its depth, cut at depth discontinuities, with a
ring past the photo's border and a background layer behind the cuts (``layers.py``).

The mesh is a regular grid of vertices at pixel centres every ``stride`` pixels, plus the
photo's outer border (-0.5 and W - 0.5) so the source view is covered edge to edge. Its texture
is the photo at full resolution; texture coordinates are pixel coordinates of the photo.

A grid triangle is cut (dropped, never stretched) when one of its grid sides crosses a depth
discontinuity. A side a-b crosses one when the inverse depth at b is not predicted by linear
extrapolation from a's side (a and the vertex before it), nor the other way round; the
smaller of the two prediction errors, times the subject's distance, must exceed
``cut_threshold``, and the depths at a and b must differ by more than ``cut_threshold``
relative to the nearer (so a sphere's rim, curved but continuous, is not cut off).

Why inverse depth: for any plane 1/z is linear in the image coordinates, so smooth
surfaces, even grazing ground planes far away and at any resolution, predict exactly and are
kept; a jump between two surfaces is not predicted from either side and is cut.
Multiplying by the subject distance makes the threshold independent of the scene's scale:
it is the jump in parallax relative to the subject's. (A diagonal crossing a depth edge
implies a crossing side, so sides suffice.)

With ``--mesh-error`` (off by default), cells where the depth is planar are merged into
larger triangles (``adaptive.py``), within that many output pixels for the shot's cameras;
cut ends, and the background layer's seams with the photo's surface, keep the grid. The
vertices are then only those some triangle uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ..bounds import check_fields, check_integer, check_number, shown
from ..camera.camera import Camera
from ..camera.moves import subject_depth
from ..depth.convert import DepthMap
from ..errors import InputError
from ..io.image import Picture
from .adaptive import ViewBound, default_bound, merge_cells
from .inpaint import WORKING_SIZE, get_inpainter, inpaint, outpaint
from .layers import SCREEN_SPACING_PX, BackgroundLayer, Reach, background_layer, cut_ends
from .patchfill import patch_fill, working_shape
from .texture import quantize, to_float

#: Largest ``--stride`` (pixels between mesh vertices).
MAX_STRIDE = 1024
#: Largest ``--mesh-error`` (output pixels).
MAX_MESH_ERROR = 1.0
#: Default ``--mesh-error`` (output pixels): P1's scene 7x fewer triangles, its frame 0.6x the
#: time, #3's and #10's quality figures within 0.02 dB (docs/benchmarks.md, issue #20).
DEFAULT_MESH_ERROR = 0.1
#: Largest ``--cut-threshold``: a jump of a hundred times the subject's inverse depth; no real
#: depth edge is that large, so it means "no cuts".
MAX_CUT_THRESHOLD = 100.0


@dataclass(frozen=True)
class SceneSettings:
    """How the mesh is built. Field docs become ``--help`` text."""

    stride: int = field(
        default=0,
        metadata={
            "help": f"pixels between mesh vertices, 0..{MAX_STRIDE}; 0 = auto (about 1.5 M vertices, "
            "so a 12 MP photo is a few million triangles; coarser when the output shows the photo smaller, "
            "about 2.5 output pixels apart). When every camera shows the photo at half its size "
            "or less, it is box-filtered by 2 or 4 first and N counts its pixels (N / 2 or N / 4, "
            "rounded up)"
        },
    )
    spacing: float = field(
        default=SCREEN_SPACING_PX,
        metadata={
            "help": "with --stride 0 (auto): vertex spacing on screen in output pixels, 1..64; 2.5 is "
            "as fine as the output can show, larger is faster with smoother depth edges (6-8 "
            "for a live preview)"
        },
    )
    fill: str = field(
        default="telea",
        metadata={
            "help": "disocclusion fill: a background layer behind depth edges, coloured by this "
            "inpainter (telea, ns, propagate, nearest, patch) or fill model (migan; `stillcam "
            "models`, extra 'fill'); none leaves holes (and no ring) in the matte colour"
        },
    )
    outpaint: str = field(
        default="propagate",
        metadata={
            "help": "frame-edge fill: the ring of scene past the photo's border is coloured by "
            "this inpainter (propagate, nearest, telea, ns, patch) or fill model (migan)"
        },
    )
    flatten_rims: bool = field(
        default=False,
        metadata={
            "help": "turn the rims of objects that the photo saw edge-on (a sphere's outline) "
            "towards the camera, so they do not unfold into spikes when the camera turns"
        },
    )
    fill_model_dir: str | None = field(
        default=None,
        metadata={
            "metavar": "DIR",
            "help": "load fill models (--fill/--outpaint migan) from this folder (holding the "
            "model's .onnx file) instead of the Hugging Face cache",
        },
    )
    snap_edges: bool = field(
        default=True,
        metadata={
            "help": "move depth edges that are a pixel off the photo's edges onto them (the "
            "far end of a cut whose colour matches the near end joins the foreground)"
        },
    )
    soft_edge: float = field(
        default=0.0,
        metadata={
            "help": "pixels of fade at foreground edges over what lies behind them, 0..4; 0 = hard "
            "edges (default: fading the photo's already-mixed edge pixels cost 0.1-0.2 dB on "
            "Middlebury); anti-aliasing comes from --supersample"
        },
    )
    cut_threshold: float = field(
        default=0.05,
        metadata={
            "help": "depth-edge sensitivity: the mesh is cut where inverse depth jumps, "
            "unpredicted by its neighbours, by more than this fraction of the subject's "
            f"(smaller = more cuts), (0, {MAX_CUT_THRESHOLD:g}]"
        },
    )
    mesh_error: float = field(
        default=DEFAULT_MESH_ERROR,
        metadata={
            "help": "adaptive mesh: merge grid cells where the depth is planar into larger triangles, "
            "while no surface point moves more than this many output pixels for the shot's cameras, "
            f"nor the texture (default {DEFAULT_MESH_ERROR:g}: the full grid's frames within a code "
            "value or so, 5-10x fewer triangles); depth edges keep the grid's density; "
            f"0 = the full grid, two triangles per grid cell, 0..{MAX_MESH_ERROR:g}"
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)
        check_integer("--stride", self.stride, 0, MAX_STRIDE, what="pixels between vertices", note="0 = auto")
        if not 1.0 <= self.spacing <= 64.0:  # also refuses NaN
            raise InputError(f"--spacing is {shown(self.spacing)}; give 1 to 64 output pixels (default 2.5)")
        check_number("--soft-edge", self.soft_edge, 0.0, 4.0, what="pixels", note="0 = hard edges")
        check_number(
            "--mesh-error", self.mesh_error, 0.0, MAX_MESH_ERROR, what="output pixels", note="0 = full grid"
        )
        check_number(
            "--cut-threshold",
            self.cut_threshold,
            0.0,
            MAX_CUT_THRESHOLD,
            what="a fraction of the subject's inverse depth",
            open_low=True,
        )
        for option, name in (("--fill", self.fill), ("--outpaint", self.outpaint)):
            if name != "none" or (option == "--outpaint" and self.fill != "none"):
                try:  # a typo in --outpaint is refused even when --fill none leaves it unused
                    get_inpainter(name)
                except InputError as exc:
                    raise InputError(f"{option}: {exc}") from None

    @property
    def fills(self) -> bool:
        """Whether what the photo never showed is filled (``fill`` is not ``none``)."""
        return self.fill != "none"


@dataclass(frozen=True, eq=False)
class Scene:
    """A textured mesh in world coordinates (= the photo's camera frame, metres).

    Attributes:
        vertices: (N, 3) float32 world positions in metres (OpenCV axes).
        uvs: (N, 2) float32 texture coordinates in photo pixels (x, y), pixel centres at integers.
        alphas: (N,) float32 opacity in [0, 1]: 1 but at the near end of a cut, where the
            foreground's last half pixel fades over what lies behind it (soft edges).
        triangles: (M, 3) int32 vertex indices.
        texture: (H, W, 3) uint16 sRGB-encoded colours, value / TEXTURE_MAX in [0, 1] (the
            photo at full resolution, exactly; see :mod:`.texture`).
        camera: the photo's camera (identity pose).
        stride: vertex spacing in photo pixels.
        cut_triangles: number of grid triangles dropped at depth edges.
        background_triangles: triangles of the background layer (behind cuts).
        ring_px: how far the mesh extends past the photo's border, in photo pixels.

    The texture is an atlas: the photo (with its outpainted ring) on top, the background
    layer's colours (one texel per grid vertex) below it. The background layer's triangles
    come last (the cpu backend culls them behind the foreground). With ``--mesh-error`` the
    vertices are those of the grid that some (merged) triangle uses, in grid order.
    """

    vertices: np.ndarray = field(repr=False)
    uvs: np.ndarray = field(repr=False)
    alphas: np.ndarray = field(repr=False)
    triangles: np.ndarray = field(repr=False)
    texture: np.ndarray = field(repr=False)
    camera: Camera
    stride: int
    cut_triangles: int
    background_triangles: int = 0
    ring_px: int = 0


def auto_stride(width: int, height: int, target_vertices: float = 1.5e6) -> int:
    """Vertex stride that keeps about ``target_vertices`` vertices (at least 1)."""
    return max(1, math.ceil(math.sqrt(width * height / target_vertices)))


def unproject(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, camera: Camera) -> np.ndarray:
    """Pixel coordinates and depth to points in the camera's frame.

    Args:
        xs, ys: float arrays of pixel coordinates (same shape S), pixel centres at integers.
        z: depth along the optical axis in metres, shape S, > 0.
        camera: intrinsics (its pose is ignored).

    Returns:
        (*S, 3) float64 points in metres, OpenCV axes.

    >>> cam = Camera(4, 4, 2.0, 2.0, 1.5, 1.5)
    >>> unproject(np.array([3.5]), np.array([1.5]), np.array([2.0]), cam).tolist()
    [[2.0, 0.0, 2.0]]
    """
    x = (np.asarray(xs, np.float64) - camera.cx) / camera.fx * z
    y = (np.asarray(ys, np.float64) - camera.cy) / camera.fy * z
    return np.stack([x, y, np.asarray(z, np.float64)], axis=-1)


def _grid_axis(size: int, stride: int) -> np.ndarray:
    """Vertex coordinates along one axis: the border -0.5, centres every ``stride``, the last."""
    centres = np.arange(0, size - 1, stride, dtype=np.float64)
    return np.concatenate([[-0.5], centres, [size - 1.0, size - 0.5]])


def _grid_triangles(rows: int, cols: int) -> np.ndarray:
    """(2 * (rows-1) * (cols-1), 3) int32 triangles of a rows x cols vertex grid."""
    index = np.arange(rows * cols, dtype=np.int32).reshape(rows, cols)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, :-1].ravel(), index[1:, 1:].ravel()
    return np.concatenate([np.stack([a, c, b], 1), np.stack([b, c, d], 1)]).astype(np.int32)


def _edge_errors(values: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Discontinuity measure of each side between columns j and j + 1 of ``values``.

    Args:
        values: (R, C) float64 inverse depth (1/m) on the vertex grid.
        coords: (C,) float64 pixel coordinate of each grid column (not evenly spaced).

    Returns:
        (R, C - 1) float64: the smaller error (1/m) of predicting one end by linear
        extrapolation from the other end's side; the plain jump where no side has two vertices.
    """
    jump = np.abs(values[:, 1:] - values[:, :-1])
    if values.shape[1] < 3:
        return jump
    step = np.diff(coords)  # (C - 1,)
    # Prediction of column j + 1 from columns j - 1 and j (for j >= 1).
    slope_left = (values[:, 1:-1] - values[:, :-2]) / step[:-1]
    from_left = np.abs(values[:, 2:] - (values[:, 1:-1] + slope_left * step[1:]))
    # Prediction of column j from columns j + 1 and j + 2 (for j <= C - 3).
    slope_right = (values[:, 2:] - values[:, 1:-1]) / step[1:]
    from_right = np.abs(values[:, :-2] - (values[:, 1:-1] - slope_right * step[:-1]))
    error = jump.copy()
    error[:, 1:] = np.minimum(error[:, 1:], from_left)
    error[:, :-1] = np.minimum(error[:, :-1], from_right)
    return error


def _is_cut(inverse: np.ndarray, coords: np.ndarray, z_subject: float, threshold: float) -> np.ndarray:
    """(R, C - 1) bool: which sides between grid columns cross a depth discontinuity.

    Both must hold: the prediction error (:func:`_edge_errors`) times the subject distance
    exceeds ``threshold``, and the two ends' depths differ by more than ``threshold``
    relative to the nearer one. The second test keeps curved surfaces seen at grazing angles
    (a sphere's rim) in one piece, where extrapolation alone would isolate the rim pixels.
    """
    error = _edge_errors(inverse, coords) * z_subject > threshold
    near, far = np.maximum(inverse[:, 1:], inverse[:, :-1]), np.minimum(inverse[:, 1:], inverse[:, :-1])
    return error & (near / far - 1.0 > threshold)


def _cuts(
    z: np.ndarray, gx: np.ndarray, gy: np.ndarray, z_subject: float, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cut sides of a grid with depth ``z`` (R, C): horizontal (R, C - 1), vertical (R - 1, C)."""
    inverse = 1.0 / z
    horizontal = _is_cut(inverse, gx, z_subject, threshold)
    vertical = _is_cut(inverse.T, gy, z_subject, threshold).T
    return horizontal, vertical


def _kept(horizontal: np.ndarray, vertical: np.ndarray) -> np.ndarray:
    """Mask over :func:`_grid_triangles` order: triangles none of whose grid sides is cut."""
    upper = horizontal[:-1, :] | vertical[:, :-1]  # triangles (a, c, b): top and left sides
    lower = horizontal[1:, :] | vertical[:, 1:]  # triangles (b, c, d): bottom and right sides
    return ~np.concatenate([upper.ravel(), lower.ravel()])


#: Relative depth by which the background layer sits behind the surface it continues (0.1 mm
#: at 1 m): enough to beat float32 round-off in every backend, far below what a camera sees.
BACKGROUND_BIAS = 1e-4

#: ``--mesh-error`` of the background layer, as a multiple of the foreground's: the layer is
#: seen only where the foreground uncovers it, and its depth and colours are a smooth guess
#: (propagated, inpainted) whose own error is many pixels, not a fraction of one.
BACKGROUND_MESH_ERROR = 16.0

#: Empty rows between the photo and the background layer's colours in the texture atlas,
#: so that bilinear taps never mix the two.
ATLAS_GAP = 2


#: The ring (past the photo's border) is meshed this many times coarser across the border
#: than the photo: its depth only continues the border's and its colour is a smooth
#: outpainting, so fine cells there cost triangles and show nothing (half the triangles of
#: a wide ring). Along the border the ring keeps the photo's spacing (the axes are shared).
RING_COARSENING = 4


def _padded_axis(size: int, stride: int, pad: int) -> np.ndarray:
    """Grid coordinates (integers): every ``stride`` pixels from 0 to at least size - 1,
    then every ``stride * RING_COARSENING`` pixels out to ``pad`` (rounded up to whole
    coarse steps) on both sides."""
    step = stride * RING_COARSENING
    outer = step * math.ceil(pad / step)
    inner = np.arange(0, size - 1 + stride, stride, dtype=np.float64)
    before = -np.arange(outer, 0, -step, dtype=np.float64)
    after = inner[-1] + np.arange(step, size - 1 + outer - inner[-1] + step, step, dtype=np.float64)
    return np.concatenate([before, inner, after])


@dataclass(frozen=True, eq=False)
class _Grid:
    xs: np.ndarray  # (R, C) photo pixel x of each vertex
    ys: np.ndarray
    z: np.ndarray  # (R, C) float64 metres
    texture: np.ndarray  # the (padded, filled) photo the uvs index
    left: int  # photo pixel x = texture x - left
    top: int
    storage: np.ndarray | None = None  # texture plus room below it for the atlas


def _plain_grid(picture: Picture, z: np.ndarray, stride: int) -> _Grid:
    """No fill: vertices at pixel centres plus the photo's outer border (-0.5, W - 0.5)."""
    gx, gy = _grid_axis(picture.width, stride), _grid_axis(picture.height, stride)
    xs, ys = np.meshgrid(gx, gy)
    ix = np.clip(np.rint(xs), 0, picture.width - 1).astype(np.intp)
    iy = np.clip(np.rint(ys), 0, picture.height - 1).astype(np.intp)
    return _Grid(xs, ys, z[iy, ix].astype(np.float64), quantize(picture.pixels), 0, 0)


def _ringed_grid(
    picture: Picture, z: np.ndarray, stride: int, ring_px: float, fill: str, *, full_atlas: bool
) -> _Grid:
    """A grid reaching ``ring_px`` past the border; the ring's colour is inpainted, its depth
    continues the border's. The storage has room below the texture for the background
    layer's colours: one texel per vertex, or (``full_atlas``) a full-resolution copy of the
    texture."""
    pad = max(1, math.ceil(ring_px))
    gx, gy = _padded_axis(picture.width, stride, pad), _padded_axis(picture.height, stride, pad)
    pad = int(-gx[0])  # whole coarse steps: the texture's margin must match the grid's
    if int(-gy[0]) != pad:
        raise AssertionError("padded axes must start at the same margin")
    right = int(gx[-1]) - (picture.width - 1)
    bottom = int(gy[-1]) - (picture.height - 1)
    rows = picture.height + pad + bottom if full_atlas else len(gy)
    storage = outpaint(fill, picture.pixels, pad, bottom, pad, right, extra_rows=rows + ATLAS_GAP)
    texture = storage[: picture.height + pad + bottom]
    xs, ys = np.meshgrid(gx, gy)
    # The ring continues the border's depth: clamped indices replicate the edge.
    iy = np.clip(ys.astype(np.intp), 0, picture.height - 1)
    ix = np.clip(xs.astype(np.intp), 0, picture.width - 1)
    z_grid = z[iy, ix].astype(np.float64)
    return _Grid(xs, ys, z_grid, texture, pad, pad, storage)


def _background_colours(colours: np.ndarray, layer: BackgroundLayer, fill: str) -> np.ndarray:
    """Inpaint the layer's colours from the background side.

    Right at a cut the best guess of the hidden background is the edge pixel itself, even
    if its colour is part foreground; a cell or more away, fills that do not draw on edge
    pixels avoid ghosts of the foreground (pink halos beside a pink teddy). The two fills
    are blended between two and five cells from the edge (chosen on Middlebury: the near
    fill wins at 1/4 baseline, the far one beyond).
    """
    known = ~layer.in_front
    near_fill = inpaint(fill, colours, known)
    # The far fill only matters a few cells from the edge, where it is smooth: half the size.
    far_fill = inpaint(fill, colours, known & ~layer.edge, working_size=WORKING_SIZE // 2)
    weight = np.clip((layer.edge_distance - 2.0) / 3.0, 0.0, 1.0)[..., None]
    blended = (1.0 - weight) * near_fill + weight * far_fill
    return np.where(known[..., None], colours, blended).astype(np.float32)


def _patch_layer(grid: _Grid, layer: BackgroundLayer, z: np.ndarray, out: np.ndarray) -> None:
    """The background layer's texture at full resolution: ``out`` (the texture's shape) is the
    grid's texture with the pixels the foreground hides replaced by copies of background
    pixels (:func:`~stillcam.scene.patchfill.patch_fill`: patches that look alike, sources no
    nearer than the background they stand in for).

    Args:
        grid: the scene's grid (vertex positions, texture with its ring).
        layer: its background layer (on the grid).
        z: (H, W) float32 depth of the photo in metres.
        out: (Ht, Wt, 3) uint16, written.
    """
    texture = grid.texture
    ht, wt = texture.shape[:2]
    # Every texel's nearest grid vertex, per axis (the ring's spacing is coarser).
    ix = _nearest_index(grid.xs[0], np.arange(wt) - grid.left)
    iy = _nearest_index(grid.ys[:, 0], np.arange(ht) - grid.top)
    cell = np.ones((3, 3), np.uint8)
    front = layer.in_front.astype(np.uint8)
    hole = cv2.dilate(front, cell)[iy[:, None], ix[None, :]].astype(bool)
    source = ~cv2.dilate(front, cell, iterations=2)[iy[:, None], ix[None, :]].astype(bool)
    h, w = z.shape
    inside = np.zeros((ht, wt), bool)
    inside[grid.top : grid.top + h, grid.left : grid.left + w] = True
    source &= inside  # the ring is a guess itself: never a source
    # The depth terms at the search's working size, from the grid (nearest vertex).
    sw, sh = working_shape(ht, wt, PATCH_LAYER_WORKING_PX)
    small_ix = _nearest_index(grid.xs[0], (np.arange(sw) + 0.5) * (wt / sw) - 0.5 - grid.left)
    small_iy = _nearest_index(grid.ys[:, 0], (np.arange(sh) + 0.5) * (ht / sh) - 0.5 - grid.top)
    grid_zinv = (1.0 / grid.z).astype(np.float32)[small_iy[:, None], small_ix[None, :]]
    target = (1.0 / layer.z).astype(np.float32)[small_iy[:, None], small_ix[None, :]]
    out[...] = texture
    patch_fill(
        texture,
        hole,
        source,
        working_px=PATCH_LAYER_WORKING_PX,
        out=out,
        fade_px=PATCH_FADE_PX,
        small_depth=(grid_zinv, target),
    )


#: Long side (px) the background layer's offset field is searched at. 768 px was tried (the
#: search is most of the patch fill's cost): on the demo's orbit it copied the blue sphere
#: into the ground below it, so the layer keeps 1024.
PATCH_LAYER_WORKING_PX = 1024
#: Hole pixels of the background layer this close to the background side (pixels) mix in
#: the nearest background pixel's colour (:func:`~stillcam.scene.patchfill.patch_fill`).
PATCH_FADE_PX = 6.0


def _nearest_index(axis: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Index of the nearest entry of the increasing ``axis`` for every position."""
    right = np.clip(np.searchsorted(axis, positions), 1, len(axis) - 1)
    left = right - 1
    return np.where(positions - axis[left] <= axis[right] - positions, left, right)


def _background(
    grid: _Grid, cuts: tuple[np.ndarray, np.ndarray], reach_cells: float, settings: SceneSettings
) -> tuple[BackgroundLayer, np.ndarray]:
    """The background layer and which of the grid's triangles (:func:`_grid_triangles`
    order) it has (none when nothing needs the layer)."""
    layer = background_layer(grid.z, *cuts, reach_cells, settings.cut_threshold)
    if not layer.inside.any():
        rows, cols = grid.z.shape
        return layer, np.zeros(2 * (rows - 1) * (cols - 1), bool)
    usable = layer.inside | ~layer.in_front
    corners = np.stack([usable[:-1, :-1], usable[:-1, 1:], usable[1:, :-1], usable[1:, 1:]])
    corner_inside = np.stack(
        [layer.inside[:-1, :-1], layer.inside[:-1, 1:], layer.inside[1:, :-1], layer.inside[1:, 1:]]
    )
    cells = (corners.all(axis=0) & corner_inside.any(axis=0)).ravel()
    # The layer never bridges a cut between two vertices it did not reconstruct (two real
    # surfaces); its reconstructed depth is smooth by construction and is not cut again.
    horizontal, vertical = cuts
    inside = layer.inside
    keep = np.concatenate([cells, cells]) & _kept(
        horizontal & ~inside[:, :-1] & ~inside[:, 1:], vertical & ~inside[:-1, :] & ~inside[1:, :]
    )
    return layer, keep


def _whole_cells(keep: np.ndarray, shape: tuple[int, int], fixed: np.ndarray | None = None) -> np.ndarray:
    """(R - 1, C - 1) bool: cells whose two triangles are kept (and, given ``fixed`` (R, C),
    none of whose corners is fixed): the cells :func:`~.adaptive.merge_cells` may merge."""
    rows, cols = shape
    n = (rows - 1) * (cols - 1)
    cells = keep[:n].reshape(rows - 1, cols - 1) & keep[n:].reshape(rows - 1, cols - 1)
    if fixed is not None:
        cells &= ~(fixed[:-1, :-1] | fixed[:-1, 1:] | fixed[1:, :-1] | fixed[1:, 1:])
    return cells


def _layer_on_surface(keep_bg: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(R, C) bool: the background layer's vertices that it did not reconstruct, which lie on
    the photo's surface with only BACKGROUND_BIAS behind it (a merged surface there could
    sag behind the layer)."""
    rows, cols = inside.shape
    n = (rows - 1) * (cols - 1)
    cells = (keep_bg[:n] | keep_bg[n:]).reshape(rows - 1, cols - 1)
    corner = np.zeros(inside.shape, bool)
    corner[:-1, :-1] |= cells
    corner[:-1, 1:] |= cells
    corner[1:, :-1] |= cells
    corner[1:, 1:] |= cells
    return corner & ~inside


def _meshed(
    grid: _Grid,
    inverse: np.ndarray,
    keep: np.ndarray,
    cells: np.ndarray | None,
    bound: ViewBound | None,
    tolerance: float,
    relative: float = np.inf,
) -> np.ndarray:
    """The kept grid triangles, or given ``cells`` and a ``bound`` their smooth cells merged
    within ``tolerance`` output pixels (and ``relative``: :func:`~.adaptive.merge_cells`)."""
    grid_triangles = _grid_triangles(*grid.z.shape)
    if cells is None or bound is None:
        return grid_triangles[keep]
    gx, gy = grid.xs[0], grid.ys[:, 0]
    return merge_cells(gx, gy, inverse, cells, grid_triangles, keep, bound, tolerance, relative)


def _compacted(
    vertices: np.ndarray, uvs: np.ndarray, alphas: np.ndarray, triangles: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Only the vertices some triangle uses (in their order), the triangles renumbered."""
    used, remap = np.unique(triangles, return_inverse=True)
    return vertices[used], uvs[used], alphas[used], remap.reshape(-1, 3).astype(np.int32)


#: A grid side is "grazing" when the source camera saw its surface at more than this angle
#: from facing it: tan(80 deg) = 5.7 (depth change per pixel step, relative to depth, times the
#: focal length in pixels).
GRAZING_SLOPE = 5.7
#: Grid steps from a cut within which grazing sides are flattened (the rims of objects).
RIM_STEPS = 3


def _flattened_rims(grid: _Grid, cuts: tuple[np.ndarray, np.ndarray], focal_px: float) -> np.ndarray:
    """The grid's depth with the rims of objects turned towards the camera.

    Near a cut, a surface the photo saw edge-on (a sphere's rim, a card's edge) is meshed by
    triangles almost parallel to the rays; when the camera turns they unfold into spikes a
    dozen pixels long. Within RIM_STEPS of a cut's near end, the farther vertex of every
    grazing side (slope over GRAZING_SLOPE) takes the nearer vertex's depth, step by step
    outwards: the rim keeps its pixels and colours in the source view and moves with the
    object (a flat card edge) instead of stretching.

    Returns:
        (R, C) float64 depth in metres.
    """
    z = grid.z.copy()
    near, _ = cut_ends(1.0 / z, *cuts)
    rim = cv2.dilate(near.astype(np.uint8), np.ones((2 * RIM_STEPS + 1,) * 2, np.uint8)).astype(bool)
    dx = np.diff(grid.xs[0])[None, :]
    dy = np.diff(grid.ys[:, 0])[:, None]
    for _ in range(RIM_STEPS):
        moved = False
        for axis, step in ((1, dx), (0, dy)):
            a = z[:, :-1] if axis == 1 else z[:-1, :]
            b = z[:, 1:] if axis == 1 else z[1:, :]
            slope = np.abs(b - a) / np.minimum(a, b) * focal_px / step
            grazing = slope > GRAZING_SLOPE
            side_rim = rim[:, :-1] & rim[:, 1:] if axis == 1 else rim[:-1, :] & rim[1:, :]
            cut = cuts[0] if axis == 1 else cuts[1]
            pull = grazing & side_rim & ~cut
            for far_is_b, target, source in ((True, b, a), (False, a, b)):
                mask = pull & ((b > a) if far_is_b else (a > b))
                if mask.any():
                    target[mask] = source[mask]
                    moved = True
        if not moved:
            break
    return z


def _snap_edges(grid: _Grid, cuts: tuple[np.ndarray, np.ndarray]) -> tuple[_Grid, bool]:
    """Move misplaced depth edges onto the photo's edges, by one grid step.

    Depth maps (estimated or even measured) often put an object's outline a pixel off the
    photo's: the object's outermost pixels get the background's depth, stay behind when the
    camera moves and leave a coloured outline on the background. At each cut, the far-end
    vertex whose colour (L1 over RGB) is closer to the near end's than to the next vertex
    farther out is taken to belong to the foreground and gets the near end's depth.
    (Middlebury, ground-truth disparity: +0.8 to +1.2 dB full frame.) Returns the grid and
    whether any vertex moved.
    """
    rows, cols = grid.z.shape
    z = grid.z.copy()
    moved = False

    def colour(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        y = grid.ys[r, c].astype(np.intp) + grid.top
        x = grid.xs[r, c].astype(np.intp) + grid.left
        return to_float(grid.texture[y, x])

    for cut, step in ((cuts[0], (0, 1)), (cuts[1], (1, 0))):
        r, c = np.nonzero(cut)  # the side joins (r, c) and (r + step[0], c + step[1])
        r2, c2 = r + step[0], c + step[1]
        near_first = grid.z[r, c] < grid.z[r2, c2]
        fr, fc = np.where(near_first, r2, r), np.where(near_first, c2, c)  # far end
        nr, nc = np.where(near_first, r, r2), np.where(near_first, c, c2)  # near end
        orow, ocol = 2 * fr - nr, 2 * fc - nc  # next vertex farther out
        valid = (orow >= 0) & (orow < rows) & (ocol >= 0) & (ocol < cols)
        fr, fc, nr, nc, orow, ocol = (a[valid] for a in (fr, fc, nr, nc, orow, ocol))
        far = colour(fr, fc)
        snap = np.abs(far - colour(nr, nc)).sum(-1) < np.abs(far - colour(orow, ocol)).sum(-1)
        z[fr[snap], fc[snap]] = grid.z[nr[snap], nc[snap]]
        moved |= bool(snap.any())
    return _Grid(grid.xs, grid.ys, z, grid.texture, grid.left, grid.top, grid.storage), moved


def build_scene(
    picture: Picture,
    depth: DepthMap,
    camera: Camera,
    settings: SceneSettings,
    reach: Reach | None = None,
    views: ViewBound | None = None,
) -> Scene:
    """Lift ``picture`` with ``depth`` (same size) seen by ``camera`` into a layered, cut,
    textured mesh that covers what cameras within ``reach`` will see (see module docstring).

    With ``--mesh-error``, smooth cells merge within the error that cameras bounded by
    ``views`` show (:func:`~.adaptive.view_bound`; without it, :func:`~.adaptive.default_bound`)."""
    z = depth.z
    if z.shape != (picture.height, picture.width):
        raise InputError(
            f"depth is {z.shape[1]}x{z.shape[0]} but the photo is {picture.width}x{picture.height}"
        )
    reach = reach or Reach()
    stride = settings.stride or auto_stride(picture.width, picture.height)
    z_subject = subject_depth(z)
    if settings.fill == "none":
        grid = _plain_grid(picture, z, stride)
    else:
        grid = _ringed_grid(
            picture, z, stride, reach.ring_px, settings.outpaint, full_atlas=settings.fill == "patch"
        )
    rows, cols = grid.z.shape
    cuts = _cuts(grid.z, grid.xs[0], grid.ys[:, 0], z_subject, settings.cut_threshold)
    if settings.snap_edges:
        grid, moved = _snap_edges(grid, cuts)
        if moved:
            cuts = _cuts(grid.z, grid.xs[0], grid.ys[:, 0], z_subject, settings.cut_threshold)
    if settings.flatten_rims:
        grid = replace(grid, z=_flattened_rims(grid, cuts, camera.fx))
        cuts = _cuts(grid.z, grid.xs[0], grid.ys[:, 0], z_subject, settings.cut_threshold)
    keep = _kept(*cuts)
    vertices = [unproject(grid.xs, grid.ys, grid.z, camera).reshape(-1, 3)]
    near, far = cut_ends(1.0 / grid.z, *cuts)
    bound = (views or default_bound(camera, z_subject)) if settings.mesh_error > 0.0 else None
    alphas = [np.where(near, 1.0 - min(settings.soft_edge / stride, 1.0), 1.0).ravel()]
    uvs = [np.stack([grid.xs.ravel() + grid.left, grid.ys.ravel() + grid.top], axis=1)]
    layer = None
    if settings.fill != "none" and reach.edge_px > 0:
        layer, keep_bg = _background(grid, cuts, reach.edge_px / stride, settings)
    cells = None
    if bound:  # cut ends, and where the layer lies on the photo's surface, keep the grid
        fixed = near | far if layer is None else near | far | _layer_on_surface(keep_bg, layer.inside)
        cells = _whole_cells(keep, (rows, cols), fixed)
    triangles = [_meshed(grid, 1.0 / grid.z, keep, cells, bound, settings.mesh_error)]
    texture = grid.texture
    background = 0
    if layer is not None:
        # Merged only where it was reconstructed, at least --cut-threshold behind the
        # foreground: a quarter of that margin keeps it behind (where it meets the photo's
        # surface, with only BACKGROUND_BIAS between them, it keeps the grid).
        cells_bg = _whole_cells(keep_bg, (rows, cols), ~layer.inside) if bound else None
        tolerance, margin = BACKGROUND_MESH_ERROR * settings.mesh_error, 0.25 * settings.cut_threshold
        tris_bg = (
            _meshed(grid, 1.0 / layer.z, keep_bg, cells_bg, bound, tolerance, margin) if keep_bg.any() else ()
        )
        if len(tris_bg):
            used, remap = np.unique(tris_bg, return_inverse=True)
            offset = texture.shape[0] + ATLAS_GAP
            atlas = grid.storage
            r, c = np.divmod(used, cols)
            atlas[texture.shape[0] : offset] = 0
            if settings.fill == "patch":  # the photo's own texels, copied (scene/patchfill.py)
                _patch_layer(grid, layer, z, atlas[offset : offset + texture.shape[0]])
                layer_uvs = np.stack([grid.xs[r, c] + grid.left, grid.ys[r, c] + grid.top + offset], axis=1)
            else:  # one texel per vertex, inpainted
                atlas[offset:] = 0
                colours = to_float(
                    grid.texture[grid.ys.astype(np.intp) + grid.top, grid.xs.astype(np.intp) + grid.left]
                )
                quantize(_background_colours(colours, layer, settings.fill), out=atlas[offset:, :cols])
                layer_uvs = np.stack([c, r + offset], axis=1).astype(np.float64)
            texture = atlas
            z_bg = layer.z
            # Just behind: where the layer meets the photo's mesh (its vertices that were not
            # reconstructed keep the photo's depth) the two would tie, and which wins a tie
            # depends on each backend's last bits (z-fighting; measured on Middlebury teddy:
            # cpu and reference disagreed on 1.9 % of a moved frame's pixels).
            z_behind = z_bg[r, c] * (1.0 + BACKGROUND_BIAS)
            vertices.append(unproject(grid.xs[r, c], grid.ys[r, c], z_behind, camera))
            uvs.append(layer_uvs)
            alphas.append(np.ones(len(used)))
            triangles.append(remap.reshape(-1, 3).astype(np.int32) + rows * cols)
            background = len(tris_bg)
    mesh = (np.concatenate(vertices), np.concatenate(uvs), np.concatenate(alphas), np.concatenate(triangles))
    if bound:
        mesh = _compacted(*mesh)
    return Scene(
        vertices=mesh[0].astype(np.float32),
        uvs=mesh[1].astype(np.float32),
        alphas=mesh[2].astype(np.float32),
        triangles=np.ascontiguousarray(mesh[3], dtype=np.int32),
        texture=np.ascontiguousarray(texture),
        camera=camera,
        stride=stride,
        cut_triangles=int((~keep).sum()),
        background_triangles=background,
        ring_px=grid.left,
    )
