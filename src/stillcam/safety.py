"""Motion safety: does a camera path show much that the photo never saw, or pass through a
surface? Warn, or clamp the move (``--safe``) until it does neither.

Checks run on a small proxy of the scene (the photo and its depth at <= 320 px wide, no fill,
no ring) rendered at <= 192 px wide, so they cost a fraction of a second:

* **reveal** - the fraction of a frame that no photo pixel covers (what the fill and the
  outpainted ring would have to invent), per frame, less the first frame's (the proxy's own
  seams at depth edges); the guard trips above ``max_reveal``.
* **collision** - the camera reaches or grazes a surface: seen from the photo's camera, its
  centre lies at or behind (within 5 % of) the depth the photo shows in that direction; or a
  surface in its frame comes nearer than a fifth of the photo's nearest depth (the camera
  flies past or into it).

Clamping plays the same move with less travel: every move's progress is scaled by an amount
in [0, 1], found by bisection (8 halvings, about 0.4 %), deterministic so re-renders match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .camera.camera import Camera
from .camera.framing import Framing
from .camera.path import CameraPath
from .depth.convert import DepthMap
from .io.image import Picture, picture_from_array
from .render.frame import Renderer, RenderSettings
from .render.registry import get_renderer
from .scene.mesh import Scene, SceneSettings, build_scene

PROXY_WIDTH = 320
CHECK_WIDTH = 192
MAX_CHECKED_FRAMES = 48
CLEARANCE = 0.05  # the camera must stay this fraction of a surface's depth in front of it
NEAR_RATIO = 0.2  # ... and no surface may come nearer than this x the photo's nearest depth
BISECTIONS = 8
#: The proxy is rendered by the cpu backend whatever --renderer says: its findings (and so a
#: --safe clamp) must not depend on the backend, and the proxy is tiny.
PROXY_RENDER = RenderSettings(renderer="cpu")


@dataclass(frozen=True)
class Safety:
    """What the guard found (stored in the recipe).

    Attributes:
        amount: fraction of the asked move that is played (1 = all of it).
        reveal: largest fraction of a checked frame that no photo pixel covers, in [0, 1].
        reveal_frame: number of that frame.
        collision_frame: number of the first frame whose camera reaches or grazes a surface, or None.
        warnings: one line each, for the user.
        framing: with ``--framing inside``, the zoom that keeps every frame inside the photo
            (the frames checked are the zoomed ones); None with ``--framing free``.
        upscale: output pixels per photo pixel at the shot's most magnified frame
            (:func:`stillcam.camera.upscale.shot_upscale`; above 1 the photo is upscaled), or
            None where not measured.
        upscale_frame: that frame's number, or None.
    """

    amount: float
    reveal: float
    reveal_frame: int
    collision_frame: int | None
    warnings: tuple[str, ...] = ()
    framing: Framing | None = None
    upscale: float | None = None
    upscale_frame: int | None = None

    def to_dict(self) -> dict[str, object]:
        record: dict[str, object] = {
            "amount": self.amount,
            "reveal": round(self.reveal, 4),
            "reveal_frame": self.reveal_frame,
            "collision_frame": self.collision_frame,
            "warnings": list(self.warnings),
        }
        if self.framing is not None:
            record["framing"] = self.framing.to_dict()
        if self.upscale is not None:
            record["upscale"] = round(self.upscale, 6)
            record["upscale_frame"] = self.upscale_frame
        return record


@dataclass(frozen=True, eq=False)
class Proxy:
    """A small stand-in of the scene for the checks.

    Attributes:
        scene: unfilled, ringless mesh of the downscaled photo.
        camera: the proxy photo's camera (same field of view as the photo's).
        z: (h, w) float32 depth in metres at the proxy's size.
    """

    scene: Scene
    camera: Camera
    z: np.ndarray


def proxy_for(picture: Picture, depth: DepthMap) -> Proxy:
    """The proxy of ``picture`` with ``depth`` (nearest-neighbour depth keeps edges sharp)."""
    scale = min(1.0, PROXY_WIDTH / picture.width)
    w, h = max(2, round(picture.width * scale)), max(2, round(picture.height * scale))
    pixels = cv2.resize(picture.pixels, (w, h), interpolation=cv2.INTER_AREA)
    z = cv2.resize(depth.z, (w, h), interpolation=cv2.INTER_NEAREST)
    small = picture_from_array(pixels, focal_mm=picture.focal_mm, name="proxy")
    camera = Camera.from_focal_mm(w, h, picture.focal_mm)
    settings = SceneSettings(stride=1, fill="none", snap_edges=False)
    return Proxy(build_scene(small, DepthMap(z, "proxy", ""), camera, settings), camera, z)


def _look(proxy: Proxy, camera: Camera, renderer: Renderer) -> tuple[float, bool]:
    """(fraction of the frame no photo pixel covers, whether a surface comes too close)."""
    scale = min(1.0, CHECK_WIDTH / camera.width)
    small = camera.resized(max(2, round(camera.width * scale)), max(2, round(camera.height * scale)))
    frame = renderer.render(proxy.scene, small)
    covered = frame.alpha >= 0.5
    nearest = float(frame.depth[covered].min()) if covered.any() else np.inf
    return float(1.0 - covered.mean()), nearest < NEAR_RATIO * float(proxy.z.min())


def _collides(proxy: Proxy, camera: Camera) -> bool:
    """Whether the camera centre is at or behind the surface the photo shows in its direction."""
    x, y, z = camera.pose[:3, 3]
    if z <= 0:
        return False  # behind the photo's viewpoint: nothing there
    src = proxy.camera
    u, v = round(src.fx * x / z + src.cx), round(src.fy * y / z + src.cy)
    if not (0 <= u < src.width and 0 <= v < src.height):
        return False  # outside the photo: no surface known
    surface = float(proxy.z[max(v - 1, 0) : v + 2, max(u - 1, 0) : u + 2].min())
    return z >= (1.0 - CLEARANCE) * surface


def _checked(camera_path: CameraPath) -> list[int]:
    n = len(camera_path)
    if n <= MAX_CHECKED_FRAMES:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, MAX_CHECKED_FRAMES).round().astype(int).tolist()))


def check_path(proxy: Proxy, camera_path: CameraPath) -> tuple[float, int, int | None]:
    """(largest reveal, its frame number, first colliding frame number or None) of ``camera_path``."""
    renderer = get_renderer(PROXY_RENDER)  # one renderer: its buffers are reused frame to frame
    reveal, worst, collision = 0.0, camera_path.first_frame, None
    baseline = _look(proxy, camera_path.cameras[0], renderer)[0]  # the proxy's own seams at depth edges
    for index in _checked(camera_path):
        camera = camera_path.cameras[index]
        value, close = _look(proxy, camera, renderer)
        value = max(0.0, value - baseline)
        if value > reveal:
            reveal, worst = value, camera_path.first_frame + index
        if collision is None and (close or _collides(proxy, camera)):
            collision = camera_path.first_frame + index
    return reveal, worst, collision


def _safe(result: tuple[float, int, int | None], max_reveal: float) -> bool:
    return result[0] <= max_reveal and result[2] is None


def guard(
    make_path: Callable[[float], CameraPath],
    proxy: Proxy,
    *,
    max_reveal: float,
    clamp: bool,
    condition: Callable[[float], bool] | None = None,
) -> tuple[CameraPath, Safety]:
    """Check the path ``make_path(1.0)``; with ``clamp``, find the largest amount that is safe.

    Args:
        make_path: amount in [0, 1] -> the shot's cameras with every move scaled by it.
        proxy: the scene's proxy (:func:`proxy_for`).
        max_reveal: largest allowed fraction of a frame without photo pixels, in (0, 1].
        clamp: shorten the move until it is safe (else only report).
        condition: amount -> whether that amount meets a further condition the clamp keeps
            (``--framing inside``: every frame inside the photo within its largest zoom).
    """
    path = make_path(1.0)
    result = check_path(proxy, path)
    amount = 1.0
    if clamp and not (_safe(result, max_reveal) and (condition is None or condition(1.0))):
        low, high, best = 0.0, 1.0, None
        for _ in range(BISECTIONS):
            middle = 0.5 * (low + high)
            attempt = make_path(middle)
            found = check_path(proxy, attempt)
            if _safe(found, max_reveal) and (condition is None or condition(middle)):
                low, best = middle, (attempt, found)
            else:
                high = middle
        path, result = best if best is not None else (make_path(0.0), check_path(proxy, make_path(0.0)))
        amount = low
    return path, Safety(
        amount, *result, warnings=_warnings(result, amount, max_reveal, clamp, condition is not None)
    )


def _warnings(
    result: tuple[float, int, int | None], amount: float, max_reveal: float, clamp: bool, inside: bool
) -> tuple[str, ...]:
    reveal, frame, collision = result
    lines = []
    if clamp and amount < 1.0:
        also = ", inside the photo (--framing inside)" if inside else ""
        lines.append(
            f"--safe: the move is played at {amount:.0%} of its length to stay within --max-reveal "
            f"{max_reveal:g}{also} and in front of every surface"
        )
    if reveal > max_reveal:
        lines.append(
            f"frame {frame} shows {reveal:.0%} of what the photo does not (filled in; --max-reveal "
            f"{max_reveal:g}); shorten the move, or pass --safe to clamp it"
        )
    if collision is not None:
        lines.append(
            f"the camera reaches or grazes a surface at frame {collision} (it flies into or past "
            "the scene's geometry); "
            "shorten the move, pick a nearer --target, or pass --safe to clamp it"
        )
    return tuple(lines)
