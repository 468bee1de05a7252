"""``--framing inside``: zoom a shot just enough that no frame looks past the photo's border.

The photo's footprint is bounded by its border: the photo's outer pixel edges (-0.5 and
W - 0.5, as the scene's mesh has them) lifted to 3D at the depth of the edge pixels, seen by
the photo's camera. Projected into a frame's camera, that closed loop is a polygon; the frame
shows only the photo (no frame-edge reveal) where its rectangle lies inside the polygon.
Zooming by f (every focal length times f, principal point kept) shrinks the rectangle by 1/f
about the principal point, so the smallest f is exact, without a search: the rectangle
``R / f`` lies inside the polygon iff the principal point does (even-odd rule) and no polygon
edge enters ``R / f``, i.e. ``1 / f <= min over the edges of g``, where g is the rectangle's
gauge (``g(p) <= s`` iff p lies in ``s R``), a maximum of four linear functions whose minimum
along a segment is at an end or where two of them cross.

Only the outer border counts: disocclusions behind foreground objects are the fill's
business. Border points behind a frame's camera are clipped at a near plane (the part of the
loop in front is kept, joined along that plane), so a camera that has moved past the near
ground at the photo's bottom edge still sees the ground below it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .camera import Camera
from .path import CameraPath

#: The most ``--framing inside`` zooms; a shot that needs more keeps this and is reported.
MAX_ZOOM = 4.0
#: Points along each of the photo's longer edges (the shorter ones in proportion).
BORDER_SAMPLES = 512
#: Points along the photo's width where the output-to-photo pixel ratio is measured.
SCALE_SAMPLES = 48
#: The near plane for border points, as a fraction of the photo's median depth.
NEAR_FRACTION = 1e-6


def photo_border(source: Camera, z: np.ndarray) -> np.ndarray:
    """The photo's outer border as 3D points, a closed loop (clockwise on screen).

    Args:
        source: the photo's camera.
        z: (H, W) float32 depth of the photo in metres.

    Returns:
        (N, 3) float64 world points in metres; the last joins the first. Pixel positions run
        along the outer pixel edges (-0.5 .. W - 0.5, -0.5 .. H - 0.5), the corners included;
        each takes the depth of the edge pixel it lies on.
    """
    h, w = z.shape
    longest = max(w, h)
    nx = max(2, min(w + 1, round(BORDER_SAMPLES * w / longest)))
    ny = max(2, min(h + 1, round(BORDER_SAMPLES * h / longest)))
    xs, ys = np.linspace(-0.5, w - 0.5, nx), np.linspace(-0.5, h - 0.5, ny)
    left, top, right, bottom = -0.5, -0.5, w - 0.5, h - 0.5
    u = np.concatenate([xs[:-1], np.full(ny - 1, right), xs[::-1][:-1], np.full(ny - 1, left)])
    v = np.concatenate([np.full(nx - 1, top), ys[:-1], np.full(nx - 1, bottom), ys[::-1][:-1]])
    col = np.clip(np.rint(u), 0, w - 1).astype(np.intp)
    row = np.clip(np.rint(v), 0, h - 1).astype(np.intp)
    return _unproject(source, u, v, z[row, col].astype(np.float64))


def frame_zooms(source: Camera, z: np.ndarray, cameras: Sequence[Camera]) -> np.ndarray:
    """Per camera, the smallest zoom that keeps its frame inside the photo's footprint.

    Args:
        source: the photo's camera.
        z: (H, W) float32 depth of the photo in metres.
        cameras: the frames' cameras (principal points inside their frames).

    Returns:
        (len(cameras),) float64 factors; below 1 where the frame could even widen, ``inf``
        where no zoom helps (the principal point itself looks past the photo's border).
    """
    return _Photo.of(source, z).zooms(cameras)


def inside_zoom(source: Camera, z: np.ndarray, cameras: Sequence[Camera]) -> float:
    """The smallest zoom factor f >= 1 such that every camera, with its focal lengths times f
    (principal point kept), sees only the photo's footprint: no frame shows anything past the
    photo's outer border (disocclusions are not counted).

    Args:
        source: the photo's camera (its pixels are the photo's).
        z: (H, W) float32 depth of the photo in metres (metric z along the optical axis).
        cameras: the frames' cameras, in the photo camera's world (metres).

    Returns:
        f >= 1, exact to rounding (1.0 when no frame looks past the border); ``inf`` when no
        zoom keeps some frame inside.
    """
    needed = float(frame_zooms(source, z, cameras).max(initial=1.0))
    return 1.0 if needed <= 1.0 + 1e-9 else needed


def zoomed_path(camera_path: CameraPath, factor: float) -> CameraPath:
    """``camera_path`` with every camera's focal lengths multiplied by ``factor``."""
    if factor == 1.0:
        return camera_path
    return replace(camera_path, cameras=tuple(c.zoomed(factor) for c in camera_path.cameras))


def upscale(source: Camera, z: np.ndarray, cameras: Sequence[Camera]) -> float:
    """The most output pixels per photo pixel any camera shows: per frame the median, over the
    photo points it sees, of ``(fx / depth in the frame) / (source fx / depth in the photo)``
    (foreshortening ignored); the largest over the frames. Above 1 the output is upscaled."""
    return _Photo.of(source, z).upscale(cameras)


@dataclass(frozen=True)
class Framing:
    """What ``--framing inside`` did to a shot (stored in the recipe's ``safety.framing``).

    Attributes:
        zoom: the factor every frame's focal lengths were multiplied by, in [1, MAX_ZOOM].
        inside: whether every frame now sees only the photo (False: it needed more than
            ``MAX_ZOOM``, or no zoom helps).
        frame: number of the frame that needed the most zoom.
        upscale: output pixels per photo pixel after the zoom (:func:`upscale`).
    """

    zoom: float
    inside: bool
    frame: int
    upscale: float

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": "inside",
            "zoom": self.zoom,
            "inside": self.inside,
            "frame": self.frame,
            "upscale": round(self.upscale, 4),
        }

    @property
    def warnings(self) -> tuple[str, ...]:
        """The line for the user: the crop factor (or that no zoom keeps the shot inside)."""
        if not self.inside:
            lines = [
                f"--framing inside: frame {self.frame} looks past the photo's border even zoomed "
                f"{MAX_ZOOM:g}x (the most it zooms), so the fill shows there; shorten the move or pass --safe"
            ]
        elif self.zoom == 1.0:
            lines = ["--framing inside: zoomed 1.000x, every frame stays inside the photo without a crop"]
        else:
            lines = [f"--framing inside: zoomed {self.zoom:.3f}x so every frame stays inside the photo"]
        # Whether the zoomed shot is upscaled is said for every shot, framed or not, by the
        # pipeline's upscale check (camera.upscale.shot_upscale), so not twice here.
        return tuple(lines)


def frame_inside(source: Camera, z: np.ndarray, camera_path: CameraPath) -> tuple[CameraPath, Framing]:
    """``camera_path`` zoomed by :func:`inside_zoom` (at most ``MAX_ZOOM``), and the record.

    Args:
        source: the photo's camera.
        z: (H, W) float32 depth of the photo in metres.
        camera_path: the shot's cameras.
    """
    return _Photo.of(source, z).framed(camera_path)


class InsideFraming:
    """An amount -> :class:`CameraPath` function (what the motion-safety guard samples) whose
    paths are zoomed to stay inside the photo; each amount's zoom is worked out once.

    Args:
        source: the photo's camera.
        z: (H, W) float32 depth of the photo in metres.
        paths: amount in [0, 1] -> the shot's cameras (``camera.plan.camera_paths``).
    """

    def __init__(self, source: Camera, z: np.ndarray, paths: Callable[[float], CameraPath]) -> None:
        self._photo, self._paths = _Photo.of(source, z), paths
        self._done: dict[float, tuple[CameraPath, Framing]] = {}

    def _framed(self, amount: float) -> tuple[CameraPath, Framing]:
        if amount not in self._done:
            self._done[amount] = self._photo.framed(self._paths(amount))
        return self._done[amount]

    def __call__(self, amount: float) -> CameraPath:
        return self._framed(amount)[0]

    def framing(self, amount: float) -> Framing:
        """The record of the path played at ``amount``."""
        return self._framed(amount)[1]

    def inside(self, amount: float) -> bool:
        """Whether every frame of the path played at ``amount`` stays inside the photo."""
        return self._framed(amount)[1].inside


@dataclass(frozen=True, eq=False)
class _Photo:
    """What the framing needs of the photo, worked out once per shot.

    Attributes:
        source: the photo's camera.
        border: (N, 3) :func:`photo_border`.
        near: the near plane in metres (``NEAR_FRACTION`` of the median depth).
        points: (M, 3) world points of a coarse grid of photo pixels (for :meth:`upscale`).
        depth: (M,) their depth in the photo, metres.
    """

    source: Camera
    border: np.ndarray
    near: float
    points: np.ndarray
    depth: np.ndarray

    @classmethod
    def of(cls, source: Camera, z: np.ndarray) -> _Photo:
        h, w = z.shape
        nx = max(2, min(w, SCALE_SAMPLES))
        ny = max(2, min(h, round(nx * h / w)))
        u, v = np.meshgrid(np.linspace(0, w - 1, nx), np.linspace(0, h - 1, ny))
        depth = z[np.rint(v).astype(np.intp), np.rint(u).astype(np.intp)].astype(np.float64).ravel()
        points = _unproject(source, u.ravel(), v.ravel(), depth)
        near = NEAR_FRACTION * float(np.median(z))
        return cls(source, photo_border(source, z), near, points, depth)

    def zooms(self, cameras: Sequence[Camera]) -> np.ndarray:
        return np.array([_frame_zoom(camera, self.border, self.near) for camera in cameras])

    def upscale(self, cameras: Sequence[Camera]) -> float:
        largest = 0.0
        for camera in cameras:
            local = _local(camera, self.points)
            front = local[:, 2] > self.near
            local, depth = local[front], self.depth[front]
            x = camera.fx * local[:, 0] / local[:, 2] + camera.cx
            y = camera.fy * local[:, 1] / local[:, 2] + camera.cy
            seen = (x >= -0.5) & (x <= camera.width - 0.5) & (y >= -0.5) & (y <= camera.height - 0.5)
            if seen.any():
                ratio = camera.fx * depth[seen] / (self.source.fx * local[seen, 2])
                largest = max(largest, float(np.median(ratio)))
        return largest if largest > 0.0 else max(c.fx / self.source.fx for c in cameras)

    def framed(self, camera_path: CameraPath) -> tuple[CameraPath, Framing]:
        zooms = self.zooms(camera_path.cameras)
        worst = int(np.argmax(zooms))
        needed = max(1.0, float(zooms[worst]))
        zoom = 1.0 if needed <= 1.0 + 1e-9 else min(needed, MAX_ZOOM)
        path = zoomed_path(camera_path, zoom)
        record = Framing(
            zoom=zoom,
            inside=needed <= MAX_ZOOM,
            frame=camera_path.first_frame + worst,
            upscale=self.upscale(path.cameras),
        )
        return path, record


def _unproject(camera: Camera, u: np.ndarray, v: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(N, 3) world points of pixels (u, v) at z = ``depth`` metres in ``camera``."""
    local = np.stack([(u - camera.cx) / camera.fx * depth, (v - camera.cy) / camera.fy * depth, depth], 1)
    return local @ camera.pose[:3, :3].T + camera.pose[:3, 3]


def _local(camera: Camera, points: np.ndarray) -> np.ndarray:
    """(N, 3) world points in ``camera``'s axes (x right, y down, z forward)."""
    return (points - camera.pose[:3, 3]) @ camera.pose[:3, :3]


def _clipped(loop: np.ndarray, near: float) -> np.ndarray:
    """The closed loop (N, 3) clipped to z >= ``near`` (Sutherland-Hodgman, one plane)."""
    inside = loop[:, 2] >= near
    if inside.all():
        return loop
    following = np.roll(loop, -1, axis=0)
    crosses = inside != np.roll(inside, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (near - loop[:, 2]) / (following[:, 2] - loop[:, 2])
    crossing = loop + np.where(crosses, t, 0.0)[:, None] * (following - loop)
    crossing[:, 2] = near
    points = np.stack([loop, crossing], axis=1).reshape(-1, 3)
    return points[np.stack([inside, crosses], axis=1).ravel()]


def _frame_zoom(camera: Camera, border: np.ndarray, near: float) -> float:
    """The smallest zoom that puts ``camera``'s frame inside the projected ``border`` loop."""
    # The frame's extents in normalised image coordinates about the principal point.
    right = (camera.width - 0.5 - camera.cx) / camera.fx
    left = (camera.cx + 0.5) / camera.fx
    bottom = (camera.height - 0.5 - camera.cy) / camera.fy
    top = (camera.cy + 0.5) / camera.fy
    if min(right, left, bottom, top) <= 0.0:
        raise ValueError("the principal point lies outside the frame: a zoom about it cannot frame it")
    loop = _clipped(_local(camera, border), near)
    if len(loop) < 3:
        return np.inf  # the whole border is behind the camera
    p = loop[:, :2] / loop[:, 2:3]
    q = np.roll(p, -1, axis=0)
    if not _contains_origin(p, q):
        return np.inf
    # g(p) = max(x / right, -x / left, y / bottom, -y / top): along an edge p + s (q - p),
    # each of the four is linear in s; the minimum over s in [0, 1] is at an end or where
    # two of them cross.
    gauge = np.array([[1.0 / right, 0.0], [-1.0 / left, 0.0], [0.0, 1.0 / bottom], [0.0, -1.0 / top]])
    alpha, beta = p @ gauge.T, (q - p) @ gauge.T  # (E, 4) each
    i, j = np.triu_indices(4, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (alpha[:, j] - alpha[:, i]) / (beta[:, i] - beta[:, j])
    s = np.concatenate([np.zeros((len(p), 1)), np.ones((len(p), 1)), np.nan_to_num(s, nan=0.0)], axis=1)
    s = np.clip(s, 0.0, 1.0)  # (E, 8) candidates
    values = (alpha[:, None, :] + s[:, :, None] * beta[:, None, :]).max(axis=2)
    distance = float(values.min())
    return 1.0 / distance if distance > 0.0 else np.inf


def _contains_origin(p: np.ndarray, q: np.ndarray) -> bool:
    """Even-odd rule: whether the polygon of edges p -> q (each (E, 2)) contains (0, 0)."""
    crosses = (p[:, 1] > 0.0) != (q[:, 1] > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = p[:, 0] - p[:, 1] * (q[:, 0] - p[:, 0]) / (q[:, 1] - p[:, 1])
    return bool(np.count_nonzero(crosses & (x > 0.0)) % 2)
