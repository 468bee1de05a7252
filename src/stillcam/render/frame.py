"""The render stage's contract: :class:`Frame`, :class:`Renderer`, and shared math."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args, runtime_checkable

import numpy as np
from numba import njit, prange

from ..bounds import check_fields, check_integer, check_number
from ..camera.camera import Camera
from ..camera.focus import MAX_FSTOP, MIN_FSTOP
from ..camera.shutter import DEFAULT_SHUTTER_DEG, MAX_SHUTTER_DEG
from ..camera.stereo import MAX_INTERAXIAL_MM, StereoLayout, parse_convergence
from ..errors import InputError
from ..scene.mesh import Scene
from .lens import MAX_VIGNETTE_STOPS, parse_distortion, parse_focus, parse_rack

RendererName = Literal["cpu", "gl", "auto", "reference"]
RENDERERS: tuple[str, ...] = get_args(RendererName)

#: Triangles with a vertex closer than this (metres, camera z) are not drawn.
NEAR_CLIP_M = 1e-3
#: A pixel centre is inside a triangle when it lies inside or within EDGE_EPS_PX pixels of every
#: edge. The tolerance keeps centres that lie exactly on an edge or vertex (the source view's
#: pixels are mesh vertices) covered despite float32 vertex round-off; shared edges are drawn
#: twice and the depth test picks one.
EDGE_EPS_PX = 1e-3
#: Slack in pixels of the bounding box that limits the pixels tested (see EDGE_EPS_PX).
BBOX_EPS = 2e-3
#: Most sub-frame samples a motion-blurred frame may take (``--shutter-samples``).
MAX_SHUTTER_SAMPLES = 64


@dataclass(frozen=True)
class RenderSettings:
    """How frames are rasterised. Field docs become ``--help`` text."""

    renderer: RendererName = field(
        default="cpu",
        metadata={
            "help": "cpu (numba, fast), gl (OpenGL via moderngl/EGL, extra 'gl'; fast on a GPU), "
            "auto (gl when a hardware GPU driver is found, else cpu; the recipe records the one "
            "used) or reference (plain numpy, slow, the judge of correctness)"
        },
    )
    supersample: int = field(
        default=1,
        metadata={
            "help": "render N x N samples per pixel and average them, 1..8 (anti-aliasing; cost grows N^2)"
        },
    )
    shutter: float | None = field(
        default=None,
        metadata={
            "metavar": "DEG",
            "const": DEFAULT_SHUTTER_DEG,
            "help": "motion blur: the shutter angle in degrees, [0, 360] (360 = open the whole frame; "
            f"--shutter alone = {DEFAULT_SHUTTER_DEG:g}); each frame is the mean of --shutter-samples "
            "renders from cameras spread over the open interval, centred on the frame "
            "(docs/moves.md, Motion blur); default off, and 0 is off",
        },
    )
    shutter_samples: int = field(
        default=8,
        metadata={
            "metavar": "N",
            "help": f"sub-frame camera samples per frame with --shutter, 1..{MAX_SHUTTER_SAMPLES} "
            "(cost grows N times; 1 = no blur)",
        },
    )
    fstop: float | None = field(
        default=None,
        metadata={
            "metavar": "N",
            "help": f"depth of field: the lens's f-number, [{MIN_FSTOP:g}, {MAX_FSTOP:g}] (a thin lens "
            "with the shot's focal length and filmback; smaller = more blur); default off, and 0 is off "
            "(docs/moves.md, Depth of field)",
        },
    )
    focus: str = field(
        default="subject",
        metadata={
            "metavar": "WHERE",
            "help": "with --fstop: the focus distance: metres (camera z), subject (the distance the moves "
            "use, --target / --target-depth) or a pixel X,Y of the frame as fractions (0,0 top left), "
            "focused at the photo's depth there; A..B pulls focus from A to B (a rack focus, e.g. "
            "0.3,0.6..0.7,0.5 or 1.5..6), over the --rack frames",
        },
    )
    rack: str | None = field(
        default=None,
        metadata={
            "metavar": "A-B",
            "help": "with --focus A..B: the frames of the focus pull (the shot's frame numbers, e.g. "
            "1010-1030), eased in and out, focus held before and after; default the whole shot",
        },
    )
    vignette: float = field(
        default=0.0,
        metadata={
            "metavar": "STOPS",
            "help": "lens vignette: light lost at the frame's corners in stops, "
            f"[0, {MAX_VIGNETTE_STOPS:g}], falling off smoothly from the centre (docs/moves.md, "
            "Vignette); default 0 = off",
        },
    )

    distortion: str | None = field(
        default=None,
        metadata={
            "metavar": "K1,K2,P1,P2",
            "help": "lens distortion: Brown-Conrady radial K1, K2 and tangential P1, P2 coefficients "
            "(OpenCV's order, normalised image coordinates; K1 < 0 barrel, > 0 pincushion), applied "
            "to each frame rendered with overscan; writes <stem>.stmap.exr and <stem>.undistort.stmap.exr "
            "(Nuke ST-maps) beside the output (docs/delivery.md, Lens distortion); default off, "
            "0,0,0,0 is off",
        },
    )
    stereo: StereoLayout | None = field(
        default=None,
        metadata={
            "help": "stereo 3D: a parallel rig of two eyes, --interaxial apart, converged at "
            "--convergence: sbs (one frame twice as wide, left eye on the left), tb (twice as tall, "
            "left eye on top), separate (two outputs, <stem>.left and <stem>.right); each eye at "
            "full resolution (docs/moves.md, Stereo; docs/delivery.md, Stereo); default off",
        },
    )
    interaxial: float = field(
        default=65.0,
        metadata={
            "metavar": "MM",
            "help": "with --stereo: the distance between the eyes in millimetres, "
            f"(0, {MAX_INTERAXIAL_MM:g}] (65 = human eyes; smaller = flatter, larger = a miniature world)",
        },
    )
    convergence: str = field(
        default="subject",
        metadata={
            "metavar": "WHERE",
            "help": "with --stereo: the distance with zero parallax (the screen plane): metres (camera z), "
            "subject (the distance the moves use, as --focus subject) or a pixel X,Y of the frame as "
            "fractions; nearer things come out of the screen",
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if self.renderer not in RENDERERS:
            raise InputError(f"unknown renderer {self.renderer!r}; choose one of {', '.join(RENDERERS)}")
        if not 1 <= self.supersample <= 8:
            raise InputError(f"--supersample must be 1..8, got {self.supersample}")
        if self.shutter is not None:
            check_number("--shutter", self.shutter, 0.0, MAX_SHUTTER_DEG, what="degrees")
        check_integer("--shutter-samples", self.shutter_samples, 1, MAX_SHUTTER_SAMPLES, what="samples")
        if self.fstop is not None and self.fstop != 0.0:
            check_number("--fstop", self.fstop, MIN_FSTOP, MAX_FSTOP, what="an f-number", note="0 = off")
        parse_focus(self.focus)
        if self.rack is not None:
            parse_rack(self.rack, self.focus)
        check_number("--vignette", self.vignette, 0.0, MAX_VIGNETTE_STOPS, what="stops")
        parse_distortion(self.distortion)
        check_number(  # --stereo itself: its choices checked by check_fields
            "--interaxial", self.interaxial, 0.0, MAX_INTERAXIAL_MM, what="millimetres", open_low=True
        )
        parse_convergence(self.convergence)

    @property
    def motion_blur(self) -> bool:
        """Whether frames are motion-blurred: a shutter above 0 degrees and more than one sample
        (otherwise the frame is rendered once, bit for bit as without ``--shutter``)."""
        return self.shutter is not None and self.shutter > 0.0 and self.shutter_samples > 1

    @property
    def lens_distortion(self) -> bool:
        """Whether frames are distorted (``--distortion`` with a coefficient other than 0);
        otherwise they are bit for bit as without it."""
        return parse_distortion(self.distortion) is not None

    @property
    def depth_of_field(self) -> bool:
        """Whether frames get a thin lens's depth of field (``--fstop`` above 0); otherwise
        they are bit for bit as without ``--fstop``."""
        return self.fstop is not None and self.fstop > 0.0


@dataclass(frozen=True, eq=False)
class Frame:
    """One rendered frame.

    Attributes:
        rgb: (H, W, 3) float32 sRGB-encoded colour in [0, 1], PREMULTIPLIED by ``alpha``
            (uncovered pixels are 0).
        depth: (H, W) float32 camera z in metres of the nearest surface; +inf where nothing.
        alpha: (H, W) float32 coverage in [0, 1] (fraction of samples that hit the scene).
    """

    rgb: np.ndarray = field(repr=False)
    depth: np.ndarray = field(repr=False)
    alpha: np.ndarray = field(repr=False)


def unpremultiplied(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Straight colour (H, W, 3) and coverage (H, W), both float32 clipped to [0, 1]; pixels
    nothing covers get colour 0."""
    alpha = np.clip(frame.alpha, 0.0, 1.0)
    colour = np.divide(frame.rgb, alpha[..., None], out=np.zeros_like(frame.rgb), where=alpha[..., None] > 0)
    return np.clip(colour, 0.0, 1.0), alpha


class Renderer(Protocol):
    """Renders a :class:`Scene` as seen by a :class:`Camera` into a :class:`Frame`."""

    def render(self, scene: Scene, camera: Camera) -> Frame: ...


@runtime_checkable
class DisplayRenderer(Renderer, Protocol):
    """A renderer that can also write display pixels directly (the cpu backend): the same
    bytes as shading, hole filling and compositing its :class:`Frame`, without the float frame."""

    def render_display(
        self,
        scene: Scene,
        camera: Camera,
        fill: bool,
        matte: np.ndarray,
        scale: np.float32,
        out: np.ndarray,
    ) -> bool:
        """Write ``camera``'s view into ``out``; False when it cannot (the caller then renders
        a :class:`Frame`).

        Args:
            fill: give pixels no layer covers the background side's colour (else the matte).
            matte: (3,) float32 colour in [0, 1] where nothing is seen.
            scale: 255 (uint8 ``out``) or 65535 (uint16).
            out: (H, W, 3) uint8 or uint16 display pixels, written in place.
        """
        ...


def project_vertices(vertices: np.ndarray, camera: Camera) -> np.ndarray:
    """World points to (x_px, y_px, z_m) in ``camera``.

    Args:
        vertices: (N, 3) float world points in metres.
        camera: the viewing camera (pose = camera-to-world).

    Returns:
        (N, 3) float64: pixel x, pixel y (pixel centres at integers), camera z in metres.

    >>> cam = Camera(4, 4, 2.0, 2.0, 1.5, 1.5)
    >>> project_vertices(np.array([[2.0, 0.0, 2.0]]), cam).tolist()
    [[3.5, 1.5, 2.0]]
    """
    world_to_camera = np.linalg.inv(camera.pose)
    points = np.asarray(vertices, np.float64) @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
    z = points[:, 2]
    safe = np.where(np.abs(z) > 1e-12, z, 1e-12)
    return np.stack(
        [camera.fx * points[:, 0] / safe + camera.cx, camera.fy * points[:, 1] / safe + camera.cy, z],
        axis=1,
    )


def bilinear_sample(texture: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sample (H, W, C) ``texture`` at pixel coordinates ``u``, ``v`` (clamped to the edge).

    Pixel centres are at integers, so u = 0 is exactly texel 0. Returns (*u.shape, C) float32.
    """
    h, w = texture.shape[:2]
    u = np.clip(u, 0.0, w - 1.0)
    v = np.clip(v, 0.0, h - 1.0)
    x0 = np.minimum(np.floor(u).astype(np.intp), w - 2) if w > 1 else np.zeros_like(u, np.intp)
    y0 = np.minimum(np.floor(v).astype(np.intp), h - 2) if h > 1 else np.zeros_like(v, np.intp)
    fx = (u - x0)[..., None]
    fy = (v - y0)[..., None]
    top = texture[y0, x0] * (1 - fx) + texture[y0, x0 + 1] * fx
    bottom = texture[y0 + 1, x0] * (1 - fx) + texture[y0 + 1, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def downsample(frame: Frame, factor: int) -> Frame:
    """Average ``factor`` x ``factor`` blocks: colour and coverage averaged, depth = nearest."""
    if factor == 1:
        return frame
    h, w = frame.alpha.shape[0] // factor, frame.alpha.shape[1] // factor
    rgb = frame.rgb.reshape(h, factor, w, factor, 3).mean(axis=(1, 3), dtype=np.float64)
    alpha = frame.alpha.reshape(h, factor, w, factor).mean(axis=(1, 3), dtype=np.float64)
    depth = frame.depth.reshape(h, factor, w, factor).min(axis=(1, 3))
    return Frame(rgb.astype(np.float32), depth.astype(np.float32), alpha.astype(np.float32))


@njit(cache=True, nogil=True)
def fill_row(rgb, depth, alpha):  # pragma: no cover - numba
    """:func:`fill_holes` on one row: rgb (W, 3), depth (W,), alpha (W,) float32, in place."""
    w = alpha.shape[0]
    x = 0
    while x < w:
        if alpha[x] > 0.0:
            x += 1
            continue
        start = x
        while x < w and alpha[x] <= 0.0:
            x += 1
        left, right = start - 1, x
        if left < 0 and right >= w:
            continue
        if left < 0:
            source = right
        elif right >= w:
            source = left
        else:
            source = left if depth[left] >= depth[right] else right
        a = alpha[source]
        for i in range(start, x):
            for c in range(3):
                rgb[i, c] = rgb[source, c] / a
            depth[i] = depth[source]
            alpha[i] = 1.0


@njit(parallel=True, cache=True, nogil=True)
def _fill_rows(rgb, depth, alpha):  # pragma: no cover - numba
    for y in prange(alpha.shape[0]):
        fill_row(rgb[y], depth[y], alpha[y])


@njit(cache=True, nogil=True)
def compose_row(rgb, alpha, matte, scale, out):  # pragma: no cover - numba
    """One row of premultiplied rgb (W, 3) float32 and alpha (W,) over ``matte`` (3,) float32,
    times ``scale`` (255 or 65535), rounded into ``out`` (W, 3) uint8/uint16."""
    for x in range(alpha.shape[0]):
        rest = 1.0 - alpha[x]
        for c in range(3):
            value = rgb[x, c] + rest * matte[c]
            value = min(max(value, 0.0), 1.0) * scale
            out[x, c] = np.rint(value)


def fill_holes(frame: Frame) -> Frame:
    """Last-resort fill of pixels no surface covers: each run of empty pixels in a row takes
    the farther of its two covered neighbours (the background side), or the only one.

    The scene's ring and background layer leave few such pixels (a fraction of a percent in
    the Middlebury benchmark); this keeps them from showing the matte colour.
    """
    if not (frame.alpha <= 0.0).any():
        return frame
    rgb, depth, alpha = frame.rgb.copy(), frame.depth.copy(), frame.alpha.copy()
    _fill_rows(rgb, depth, alpha)
    return Frame(rgb, depth, alpha)
