"""The pinhole :class:`Camera` and how an output frame is fitted to the photo."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..conventions import filmback_mm, focal_mm_to_px, focal_px_to_mm


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera in OpenCV axes (x right, y down, z forward; docs/conventions.md).

    Attributes:
        width, height: frame size in pixels.
        fx, fy: focal lengths in pixels.
        cx, cy: principal point in pixels (pixel centres at integer coordinates).
        pose: (4, 4) float64 camera-to-world matrix; world = the photo's camera frame.
        focus_m: this frame's focus distance in metres (camera z) for depth of field, or None
            = the render's ``--focus`` (a rack focus or keyframed focus sets it per frame).
        fstop: this frame's f-number, or None = the render's ``--fstop`` (keyframed f-stops).
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    pose: np.ndarray = field(default_factory=lambda: np.eye(4))
    focus_m: float | None = None
    fstop: float | None = None

    @classmethod
    def from_focal_mm(cls, width: int, height: int, focal_mm: float) -> Camera:
        """A camera at the origin with a 35 mm-equivalent focal and a centred principal point."""
        f = focal_mm_to_px(focal_mm, width, height)
        return cls(width, height, f, f, (width - 1) / 2.0, (height - 1) / 2.0, np.eye(4))

    @property
    def K(self) -> np.ndarray:
        """(3, 3) float64 pixel intrinsics matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def focal_mm(self) -> float:
        """35 mm-equivalent focal length (diagonal rule) in mm."""
        return focal_px_to_mm(self.fx, self.width, self.height)

    @property
    def filmback_mm(self) -> tuple[float, float]:
        """Filmback (width, height) in mm that makes ``focal_mm`` this camera's true focal."""
        return filmback_mm(self.width, self.height)

    @property
    def hfov_degrees(self) -> float:
        """Horizontal field of view in degrees."""
        return math.degrees(2.0 * math.atan(self.width / (2.0 * self.fx)))

    def with_pose(self, pose: np.ndarray) -> Camera:
        return replace(self, pose=np.asarray(pose, dtype=np.float64))

    def zoomed(self, factor: float) -> Camera:
        """The same camera with its focal length multiplied by ``factor`` (principal point kept)."""
        return replace(self, fx=self.fx * factor, fy=self.fy * factor)

    def resized(self, width: int, height: int) -> Camera:
        """The same view sampled on a ``width`` x ``height`` grid (pixel edges kept aligned)."""
        sx, sy = width / self.width, height / self.height
        return replace(
            self,
            width=width,
            height=height,
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=(self.cx + 0.5) * sx - 0.5,
            cy=(self.cy + 0.5) * sy - 0.5,
        )

    def scaled(self, factor: int) -> Camera:
        """The same view sampled ``factor`` times denser (for supersampling)."""
        return replace(
            self,
            width=self.width * factor,
            height=self.height * factor,
            fx=self.fx * factor,
            fy=self.fy * factor,
            cx=(self.cx + 0.5) * factor - 0.5,
            cy=(self.cy + 0.5) * factor - 0.5,
        )


def fit_output_camera(source: Camera, width: int, height: int) -> Camera:
    """The camera whose frame is the centre crop of ``source`` at ``width`` x ``height``.

    The output shows the largest centred region of the photo with the output's aspect ratio,
    scaled to the output size (never stretched). The scene beyond the crop stays available,
    so moves can reveal it.
    """
    aspect = width / height
    crop_w = min(source.width, source.height * aspect)
    crop_h = crop_w / aspect
    x0 = (source.width - crop_w) / 2.0
    y0 = (source.height - crop_h) / 2.0
    s = width / crop_w
    return Camera(
        width,
        height,
        source.fx * s,
        source.fy * s,
        (source.cx + 0.5 - x0) * s - 0.5,
        (source.cy + 0.5 - y0) * s - 0.5,
        source.pose.copy(),
    )


def rotation_x(degrees: float) -> np.ndarray:
    """(3, 3) rotation about +x; positive angles turn the view axis towards -y (up)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(degrees: float) -> np.ndarray:
    """(3, 3) rotation about +y; positive angles turn the view axis towards +x (right)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_z(degrees: float) -> np.ndarray:
    """(3, 3) rotation about the view axis; positive angles roll the camera clockwise (as seen
    from behind it), so the horizon turns counter-clockwise on screen."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def pose_from(rotation: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(4, 4) camera-to-world matrix from a (3, 3) rotation and a (3,) position in metres."""
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = position
    return pose


def look_at(position: np.ndarray, target: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """(4, 4) camera-to-world pose at ``position`` looking at ``target``; world up is -y."""
    up = np.array([0.0, -1.0, 0.0]) if up is None else np.asarray(up, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return pose_from(np.stack([right, down, forward], axis=1), np.asarray(position, float))
