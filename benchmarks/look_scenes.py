"""Exact scenes for benchmarks/look.py: textured primitives (planes, cards, discs, spheres)
and a small vectorised ray caster (numpy) that renders them from any camera.

Conventions are stillcam's (docs/conventions.md): OpenCV camera axes (x right, y down,
z forward), world = the source camera's frame, poses camera-to-world, pixel centres at integer
coordinates, depth = z along the camera's optical axis. Textures are crops of the real photos
in ``../shared/data/photos``, looked up bilinearly on their sRGB-encoded values (as stillcam
filters its textures); planes tile their texture mirrored (seamless, real detail everywhere,
far past the source frame), cards, discs and spheres stretch theirs over the primitive.

Colour is box-averaged over 2 x 2 samples per pixel, 4 x 4 on and beside silhouettes
(anti-aliased edges); depth and the id of the primitive hit are taken at the pixel centres.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PHOTOS = DATA / "photos"
#: Rays per block of the caster (bounds the memory: ~100 bytes per ray).
BLOCK_RAYS = 1 << 20
EPS = 1e-6


# --- textures --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def photo(name: str) -> np.ndarray:
    """A photo of ../shared/data/photos as (H, W, 3) uint8 RGB."""
    bgr = cv2.imread(str(PHOTOS / name), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(PHOTOS / name)
    return np.ascontiguousarray(bgr[..., ::-1])


def crop(name: str, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """The crop of a photo between fractions (x0, y0) and (x1, y1) of its size (RGB uint8)."""
    img = photo(name)
    h, w = img.shape[:2]
    return np.ascontiguousarray(img[round(y0 * h) : round(y1 * h), round(x0 * w) : round(x1 * w)])


def desaturate(rgb: np.ndarray, keep: float) -> np.ndarray:
    """Mix toward the luminance: keep = 0 grey, 1 unchanged."""
    f = rgb.astype(np.float32)
    lum = luminance(f)[..., None]
    return np.clip(lum + keep * (f - lum), 0, 255).round().astype(np.uint8)


def tinted(rgb: np.ndarray, colour: tuple[int, int, int], low: float = 0.55) -> np.ndarray:
    """The photo's luminance (normalised to [low, 1]) times ``colour``: its detail, one hue."""
    lum = luminance(rgb.astype(np.float32))
    lo, hi = np.percentile(lum, [1, 99])
    f = low + (1 - low) * np.clip((lum - lo) / max(hi - lo, 1e-6), 0, 1)
    return np.clip(f[..., None] * np.array(colour, np.float32), 0, 255).round().astype(np.uint8)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of (..., 3) RGB values (float32)."""
    rgb = np.asarray(rgb, np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def packed(rgb: np.ndarray) -> np.ndarray:
    """A texture as (H, W) uint32 of RGBA bytes (one gather fetches a texel's three channels)."""
    rgba = np.zeros((*rgb.shape[:2], 4), np.uint8)
    rgba[..., :3] = rgb
    return rgba.view(np.uint32)[..., 0]


def _mirrored(x: np.ndarray, n: int) -> np.ndarray:
    """Texel coordinate x of a texture of n texels tiled mirrored (about its outer edges, -0.5
    and n - 0.5) brought into [-0.5, n - 0.5]: a triangle wave."""
    r = np.mod(x + 0.5, 2.0 * n)
    return np.where(r < n, r, 2.0 * n - r) - 0.5


def sample(texture: np.ndarray, x: np.ndarray, y: np.ndarray, mirror: bool) -> np.ndarray:
    """Bilinear lookup in a :func:`packed` texture at texel coordinates (x, y) (texel centres at
    integers): (N, 3) float32. ``mirror``: the texture tiles mirrored beyond its edges; else
    its edges are clamped."""
    h, w = texture.shape
    if mirror:
        x, y = _mirrored(x, w), _mirrored(y, h)
    x0f, y0f = np.floor(x), np.floor(y)
    fx, fy = (x - x0f).astype(np.float32)[:, None], (y - y0f).astype(np.float32)[:, None]
    x0, y0 = x0f.astype(np.int32), y0f.astype(np.int32)
    xs = (np.clip(x0, 0, w - 1), np.clip(x0 + 1, 0, w - 1))
    ys = (np.clip(y0, 0, h - 1) * w, np.clip(y0 + 1, 0, h - 1) * w)
    flat = texture.ravel()

    def at(row, col):
        return flat.take(row + col).view(np.uint8).reshape(-1, 4).astype(np.float32)

    top = at(ys[0], xs[0]) * (1 - fx) + at(ys[0], xs[1]) * fx
    bottom = at(ys[1], xs[0]) * (1 - fx) + at(ys[1], xs[1]) * fx
    return (top * (1 - fy) + bottom * fy)[:, :3]


# --- primitives ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plane:
    """An infinite plane through ``centre`` spanned by unit axes ``u`` and ``v``; its texture
    tiles mirrored, ``texel`` metres per texel, the texture's centre at ``centre``."""

    name: str
    centre: tuple[float, float, float]
    u: tuple[float, float, float]
    v: tuple[float, float, float]
    texture: np.ndarray = field(repr=False)
    texel: float = 0.003

    def __post_init__(self):
        if self.texture.ndim == 3:  # RGB given: stored packed
            object.__setattr__(self, "texture", packed(self.texture))

    def _frame(self):
        c, u, v = (np.asarray(a, np.float64) for a in (self.centre, self.u, self.v))
        return c, u, v, np.cross(u, v)

    def _plane_hit(self, origin: np.ndarray, dirs: np.ndarray):
        c, u, v, n = self._frame()
        denom = dirs @ n.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.float32((c - origin) @ n) / denom
        t = np.where(np.isfinite(t) & (t > EPS), t, np.inf).astype(np.float32)
        return t, c, u, v

    def _local(self, origin, dirs, t, c, u, v):
        rel = (origin - c).astype(np.float32)
        p = rel[None, :] + dirs * t[:, None]
        return p @ u.astype(np.float32), p @ v.astype(np.float32)

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        return self._plane_hit(origin, dirs)[0]

    def shade(self, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray) -> np.ndarray:
        c, u, v, _ = self._frame()
        a, b = self._local(origin, dirs, t, c, u, v)
        h, w = self.texture.shape
        return sample(self.texture, a / self.texel + (w - 1) / 2, b / self.texel + (h - 1) / 2, True)


@dataclass(frozen=True)
class Card(Plane):
    """A rectangle of half sizes ``half`` along u and v; its texture stretched over it."""

    half: tuple[float, float] = (0.5, 0.5)

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        t, c, u, v = self._plane_hit(origin, dirs)
        hit = np.isfinite(t)
        a, b = self._local(origin, dirs[hit], t[hit], c, u, v)
        inside = self._inside(a, b)
        t[np.flatnonzero(hit)[~inside]] = np.inf
        return t

    def _inside(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (np.abs(a) <= self.half[0]) & (np.abs(b) <= self.half[1])

    def shade(self, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray) -> np.ndarray:
        c, u, v, _ = self._frame()
        a, b = self._local(origin, dirs, t, c, u, v)
        h, w = self.texture.shape
        x = (a / self.half[0] + 1) / 2 * (w - 1)
        y = (b / self.half[1] + 1) / 2 * (h - 1)
        return sample(self.texture, x, y, False)


@dataclass(frozen=True)
class Disc(Card):
    """A disc of radius ``half[0]`` (``half`` = (r, r)); texture stretched over its square."""

    def _inside(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * a + b * b <= self.half[0] ** 2


@dataclass(frozen=True)
class Sphere:
    """A sphere; its texture wrapped by longitude (u, 0 at -z, the side facing the source)
    and latitude (v)."""

    name: str
    centre: tuple[float, float, float]
    radius: float
    texture: np.ndarray = field(repr=False)

    def __post_init__(self):
        if self.texture.ndim == 3:  # RGB given: stored packed
            object.__setattr__(self, "texture", packed(self.texture))

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        oc = (np.asarray(origin, np.float64) - np.asarray(self.centre, np.float64)).astype(np.float32)
        a = np.einsum("ij,ij->i", dirs, dirs)
        b = dirs @ oc
        cc = np.float32(oc @ oc - self.radius**2)
        disc = b * b - a * cc
        root = np.sqrt(np.maximum(disc, 0))
        near, far = (-b - root) / a, (-b + root) / a
        t = np.where(near > EPS, near, far)
        return np.where((disc >= 0) & (t > EPS), t, np.inf).astype(np.float32)

    def shade(self, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray) -> np.ndarray:
        rel = (np.asarray(origin, np.float64) - np.asarray(self.centre, np.float64)).astype(np.float32)
        n = (rel[None, :] + dirs * t[:, None]) / np.float32(self.radius)
        lon = np.arctan2(n[:, 0], -n[:, 2])
        lat = np.arcsin(np.clip(n[:, 1], -1, 1))
        h, w = self.texture.shape
        x = (lon / np.pi + 1) / 2 * (w - 1)
        y = (lat / (np.pi / 2) + 1) / 2 * (h - 1)
        return sample(self.texture, x, y, True)


# --- scenes and the caster -------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticScene:
    name: str
    primitives: tuple
    subject: float  # subject distance (m): the orbit pivot is (0, 0, subject)
    blue: bool = False  # holds a saturated blue primitive (the colour-bleeding measure)


def intrinsics(width: int, height: int, hfov_deg: float = 40.0) -> np.ndarray:
    f = (width / 2) / np.tan(np.radians(hfov_deg) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def nearest(scene: SyntheticScene, origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray parameter (t; the camera-frame z when dirs come from K^-1 [u, v, 1] rotated) and
    primitive index of the nearest hit; -1 and inf where nothing is hit."""
    best = np.full(len(dirs), np.inf, np.float32)
    ids = np.full(len(dirs), -1, np.int16)
    for i, prim in enumerate(scene.primitives):
        t = prim.intersect(origin, dirs)
        closer = t < best
        best[closer] = t[closer]
        ids[closer] = i
    return best, ids


def shade(scene: SyntheticScene, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray, ids: np.ndarray):
    colour = np.zeros((len(dirs), 3), np.float32)
    for i, prim in enumerate(scene.primitives):
        sel = ids == i
        if sel.any():
            colour[sel] = prim.shade(origin, dirs[sel], t[sel])
    return colour


def _dirs(K: np.ndarray, pose: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """World directions (N, 3) float32 of the rays through pixel positions (xs, ys); their
    camera-frame z is 1, so the ray parameter of a hit is its depth z."""
    rot = pose[:3, :3].astype(np.float32)
    a = ((xs - K[0, 2]) / K[0, 0]).astype(np.float32)[:, None]
    b = ((ys - K[1, 2]) / K[1, 1]).astype(np.float32)[:, None]
    return a * rot[:, 0] + b * rot[:, 1] + rot[:, 2]


def _grid(width: int, y0: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
    xs = np.tile(np.arange(width, dtype=np.float64), y1 - y0)
    ys = np.repeat(np.arange(y0, y1, dtype=np.float64), width)
    return xs, ys


def _blocks(height: int, width: int):
    rows = max(1, BLOCK_RAYS // width)
    for y0 in range(0, height, rows):
        yield y0, min(height, y0 + rows)


def _colour(scene, K, pose, xs, ys, samples: int) -> np.ndarray:
    """Box average of samples x samples rays over each pixel (xs, ys): (N, 3) float32."""
    origin = np.asarray(pose[:3, 3], np.float64)
    offsets = [((i + 0.5) / samples - 0.5) for i in range(samples)]
    acc = np.zeros((len(xs), 3), np.float32)
    for dy in offsets:
        for dx in offsets:
            dirs = _dirs(K, pose, xs + dx, ys + dy)
            t, hit = nearest(scene, origin, dirs)
            acc += shade(scene, origin, dirs, t, hit)
    return acc / samples**2


def _colour_known(scene, K, pose, xs, ys, ids, samples: int) -> np.ndarray:
    """:func:`_colour` of pixels away from silhouettes, whose rays all hit the primitive
    ``ids`` of their centre: each is tested against that primitive only."""
    origin = np.asarray(pose[:3, 3], np.float64)
    offsets = [((i + 0.5) / samples - 0.5) for i in range(samples)]
    acc = np.zeros((len(xs), 3), np.float32)
    for i, prim in enumerate(scene.primitives):
        sel = np.flatnonzero(ids == i)
        if not len(sel):
            continue
        px, py = xs[sel], ys[sel]
        part = np.zeros((len(sel), 3), np.float32)
        for dy in offsets:
            for dx in offsets:
                dirs = _dirs(K, pose, px + dx, py + dy)
                t = prim.intersect(origin, dirs)
                if not np.isfinite(t).all():
                    raise ValueError(f"{scene.name}: a ray off the silhouettes missed {prim.name}")
                part += prim.shade(origin, dirs, t)
        acc[sel] = part
    return acc / samples**2


def _silhouettes(ids: np.ndarray) -> np.ndarray:
    """Pixels whose 3 x 3 neighbourhood of centre ids is not uniform, grown by one pixel."""
    kernel = np.ones((3, 3), np.uint8)
    lo = cv2.erode(ids.astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE)
    hi = cv2.dilate(ids.astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE)
    return cv2.dilate((lo != hi).astype(np.uint8), kernel) > 0


def render(
    scene: SyntheticScene,
    K: np.ndarray,
    pose: np.ndarray,
    width: int,
    height: int,
    samples: int = 4,
    base: int = 2,
):
    """(colour (H, W, 3) uint8, depth z (H, W) float32 and primitive id (H, W) int16 at the
    pixel centres) of ``scene`` seen from ``pose``. Colour is the box average of base x base
    samples per pixel, samples x samples on and beside silhouettes (where the primitive hit
    changes between neighbouring pixel centres)."""
    origin = np.asarray(pose[:3, 3], np.float64)
    depth = np.zeros((height, width), np.float32)
    ids = np.zeros((height, width), np.int16)
    for y0, y1 in _blocks(height, width):
        t, hit = nearest(scene, origin, _dirs(K, pose, *_grid(width, y0, y1)))
        depth[y0:y1] = t.reshape(y1 - y0, width)
        ids[y0:y1] = hit.reshape(y1 - y0, width)
    if (ids < 0).any():
        raise ValueError(f"scene {scene.name}: some rays hit nothing")
    edge = _silhouettes(ids)
    colour = np.zeros((height * width, 3), np.float32)
    for y0, y1 in _blocks(height, width):
        xs, ys = _grid(width, y0, y1)
        flat = np.flatnonzero(~edge[y0:y1].ravel())
        hit = ids[y0:y1].ravel()[flat]
        colour[y0 * width + flat] = _colour_known(scene, K, pose, xs[flat], ys[flat], hit, base)
    for sel in np.array_split(np.flatnonzero(edge), max(1, int(edge.sum()) // BLOCK_RAYS + 1)):
        colour[sel] = _colour(scene, K, pose, (sel % width).astype(np.float64), (sel // width) * 1.0, samples)
    return np.clip(colour + 0.5, 0, 255).astype(np.uint8).reshape(height, width, 3), depth, ids


def visibility(scene: SyntheticScene, K: np.ndarray, pose: np.ndarray, depth: np.ndarray, source_size):
    """Where the target view's pixel-centre hits (``depth`` = their z in the target camera)
    are, seen from the source camera (identity pose, same K, ``source_size`` = (W, H)):
    returns (inside: projects inside the source frame, occluded: something of the scene lies
    between the source camera and the point, more than 0.1 % nearer)."""
    height, width = depth.shape
    sw, sh = source_size
    inside = np.zeros((height, width), bool)
    occluded = np.zeros((height, width), bool)
    origin = np.asarray(pose[:3, 3], np.float64)
    for y0, y1 in _blocks(height, width):
        dirs = _dirs(K, pose, *_grid(width, y0, y1))
        points = origin.astype(np.float32)[None, :] + dirs * depth[y0:y1].reshape(-1, 1)
        z = points[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = K[0, 0] * points[:, 0] / z + K[0, 2]
            v = K[1, 1] * points[:, 1] / z + K[1, 2]
        ins = (z > 0) & (u >= -0.5) & (u < sw - 0.5) & (v >= -0.5) & (v < sh - 0.5)
        t, _ = nearest(scene, np.zeros(3), points)  # the point itself is at t = 1
        inside[y0:y1] = ins.reshape(y1 - y0, width)
        occluded[y0:y1] = (t < 1 - 1e-3).reshape(y1 - y0, width)
    return inside, occluded


def edge_band(depth: np.ndarray, radius: int = 2, jump: float = 0.02) -> np.ndarray:
    """Pixels within ``radius`` px of a silhouette: neighbours (4-connected) whose depths differ
    by more than ``jump`` (relative). Creases (a card's plane meeting the floor, the wall meeting
    the floor) have continuous depth and are not silhouettes."""
    edges = np.zeros(depth.shape, bool)
    for a, b, sa, sb in (
        (depth[:, 1:], depth[:, :-1], np.s_[:, 1:], np.s_[:, :-1]),
        (depth[1:, :], depth[:-1, :], np.s_[1:, :], np.s_[:-1, :]),
    ):
        j = np.abs(a - b) > jump * np.minimum(a, b)
        edges[sa] |= j
        edges[sb] |= j
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.dilate(edges.astype(np.uint8), kernel) > 0


# --- the scenes ------------------------------------------------------------------------------

TOWARD = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)  # u, v axes of a primitive facing the source
FLOOR_AXES = (1.0, 0.0, 0.0), (0.0, 0.0, -1.0)  # u right, v toward the camera; normal +y (down)


def _wall(texture: np.ndarray, z: float, texel: float) -> Plane:
    return Plane("wall", (0.0, 0.0, z), *TOWARD, texture=texture, texel=texel)


def _floor(texture: np.ndarray, y: float, z: float, texel: float) -> Plane:
    return Plane("floor", (0.0, y, z), *FLOOR_AXES, texture=texture, texel=texel)


def scenes() -> list[SyntheticScene]:
    """The three scenes (they need the photos; FileNotFoundError when absent)."""
    canyon = crop("jad-limcaco-183877.jpg", 0.0, 0.36, 1.0, 1.0)
    gravel = crop("kait-herzog-8242.jpg", 0.0, 0.78, 1.0, 1.0)
    prairie = crop("kait-herzog-8242.jpg", 0.45, 0.67, 1.0, 0.77)
    sign = crop("kait-herzog-8242.jpg", 0.15, 0.38, 0.39, 0.6)
    slope = crop("sean-afnan-244576.jpg", 0.5, 0.05, 1.0, 0.45)
    rocks = crop("sean-afnan-244576.jpg", 0.28, 0.62, 0.9, 0.95)
    bridge = crop("tony-webster-97532.jpg", 0.15, 0.4, 0.75, 1.0)
    canyon_half = crop("jad-limcaco-183877.jpg", 0.0, 0.45, 0.5, 1.0)
    blue = tinted(crop("nasa-53884.jpg", 0.2, 0.45, 0.8, 0.95), (25, 55, 235))
    cards = SyntheticScene(
        "cards",
        (
            _wall(canyon, 8.0, 0.003),
            _floor(gravel, 0.8, 8.0, 0.005),
            Card("sign", (-0.6, -0.1, 3.0), *TOWARD, texture=sign, half=(0.4, 0.33)),
            Card("slope", (0.55, 0.25, 4.0), *TOWARD, texture=slope, half=(0.5, 0.45)),
            Card("bridge", (0.3, -0.3, 2.2), *TOWARD, texture=bridge, half=(0.2, 0.2)),
        ),
        subject=4.0,
    )
    blue_disc = SyntheticScene(
        "blue-disc",
        (
            _wall(desaturate(gravel, 0.3), 6.0, 0.003),
            _floor(prairie, 0.7, 6.0, 0.004),
            Disc("blue disc", (0.0, 0.0, 3.5), *TOWARD, texture=blue, half=(0.45, 0.45)),
            Disc("grey disc", (-1.0, 0.3, 4.5), *TOWARD, texture=desaturate(rocks, 0.3), half=(0.3, 0.3)),
        ),
        subject=3.5,
        blue=True,
    )
    sphere = SyntheticScene(
        "sphere",
        (
            _wall(slope, 7.0, 0.003),
            _floor(gravel, 0.8, 7.0, 0.005),
            Card("sign", (0.9, -0.2, 5.5), *TOWARD, texture=sign, half=(0.45, 0.38)),
            Sphere("sphere", (0.0, 0.1, 4.0), 0.62, texture=canyon_half),
        ),
        subject=4.0,
    )
    return [cards, blue_disc, sphere]
