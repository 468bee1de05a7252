"""What the camera newly sees (issue #14), against exact ray-cast truth.

Two scenes whose truth is known everywhere, also behind the foreground and past the frame:
- a saturated blue disc before a grey textured wall (the colour-bleeding case): with the
  default fill, no pixel the source never saw may come out blue-dominant;
- the procedural example, ray-cast with 4 x 4 samples per pixel (anti-aliased silhouettes):
  the +/-2 px band around the moved view's silhouettes against that truth, with a floor set
  below today's score and a check that a one-pixel misplacement scores under it.
"""

import cv2
import numpy as np
import pytest

from stillcam import render_views
from stillcam.camera import pose_from, rotation_y
from stillcam.example.procedural import example_camera, example_inputs, render_example

# --- the blue disc ---------------------------------------------------------------------------

W, H = 320, 180
F = 0.5 * W / np.tan(np.radians(20.0))  # 40 degrees horizontal field of view
K = np.array([[F, 0.0, (W - 1) / 2], [0.0, F, (H - 1) / 2], [0.0, 0.0, 1.0]])
WALL_Z, DISC_Z, DISC_R = 6.0, 3.5, 0.45
BLUE = np.array([0.05, 0.1, 0.9])


def _wall_colour(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Grey gravel: a fixed pattern of blobs in 0.35..0.65 grey, no hue."""
    v = 0.5 + 0.08 * np.sin(9.1 * x + 3.0 * np.sin(7.3 * y)) + 0.07 * np.cos(11.7 * y + 2.0 * np.sin(5.1 * x))
    return np.repeat(v[..., None], 3, axis=-1)


def _cast(pose: np.ndarray, samples: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Colour (H, W, 3) in [0, 1] with samples x samples per pixel, depth at pixel centres,
    and the wall's hit points (H, W, 3) at pixel centres (NaN where the disc is hit)."""
    rgb = np.zeros((H, W, 3))
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    for dy in [*offsets, None]:
        for dx in offsets if dy is not None else [0.0]:
            ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
            ys, xs = ys + (dy or 0.0), xs + dx
            dirs = np.stack([(xs - K[0, 2]) / F, (ys - K[1, 2]) / F, np.ones_like(xs)], -1) @ pose[:3, :3].T
            origin = pose[:3, 3]
            t_disc = (DISC_Z - origin[2]) / dirs[..., 2]
            hit = origin + dirs * t_disc[..., None]
            on_disc = (t_disc > 0) & (hit[..., 0] ** 2 + hit[..., 1] ** 2 < DISC_R**2)
            t_wall = (WALL_Z - origin[2]) / dirs[..., 2]
            wall = origin + dirs * t_wall[..., None]
            colour = np.where(on_disc[..., None], BLUE, _wall_colour(wall[..., 0], wall[..., 1]))
            if dy is None:  # the pixel centres: depth and hit points
                t = np.where(on_disc, t_disc, t_wall)
                z = (dirs * t[..., None]) @ pose[:3, :3]
                wall[on_disc] = np.nan
                return np.clip(rgb / samples**2, 0, 1), z[..., 2], wall
            rgb += colour
    raise AssertionError("unreachable")


def _revealed(wall: np.ndarray) -> np.ndarray:
    """Target pixels showing wall the source camera (at the origin) does not see: hidden by
    the disc, or outside the source frame."""
    s = DISC_Z / WALL_Z
    behind = (wall[..., 0] * s) ** 2 + (wall[..., 1] * s) ** 2 < DISC_R**2
    u = F * wall[..., 0] / WALL_Z + K[0, 2]
    v = F * wall[..., 1] / WALL_Z + K[1, 2]
    outside = (u < -0.5) | (u > W - 0.5) | (v < -0.5) | (v > H - 0.5)
    return np.isfinite(wall[..., 0]) & (behind | outside)


#: The default fill draws the background layer next to a cut from the cut's far-end pixel, which
#: on an anti-aliased silhouette is part foreground: 0.3-0.4 % of the revealed pixels come out
#: blue (a faint column where the disc's rim was). Un-mixing those pixels without a matte was
#: tried (docs/benchmarks.md) and costs up to 0.34 dB on Middlebury; matting is issue #14's
#: open part. Strict: the test turns red the day the default passes, to be un-marked.
_DEFAULT_BLEEDS = pytest.mark.xfail(strict=True, reason="default fill bleeds edge pixels (issue #14)")


@pytest.mark.parametrize("move", ["truck", "orbit"])
@pytest.mark.parametrize(
    "fill",
    [pytest.param({}, marks=_DEFAULT_BLEEDS), {"fill": "patch", "outpaint": "patch"}],
    ids=["default", "patch"],
)
def test_no_revealed_pixel_takes_the_blue_discs_colour(move, fill):
    image, depth, _ = _cast(np.eye(4))
    if move == "truck":
        pose = pose_from(np.eye(3), np.array([0.25, 0.0, 0.0]))
    else:  # 10 degrees about the disc's centre, looking at it
        rot = rotation_y(-10.0)
        pose = pose_from(rot, rot @ np.array([0.0, 0.0, -DISC_Z]) + np.array([0.0, 0.0, DISC_Z]))
    truth, _, wall = _cast(pose)
    revealed = _revealed(wall)
    assert revealed.mean() > 0.02  # the move reveals something behind the disc
    photo = np.round(image * 255).astype(np.uint8)
    out = render_views(photo, depth.astype(np.float32), K, [pose], **fill)[0].astype(np.int16)
    blue = out[..., 2] > np.maximum(out[..., 0], out[..., 1]) + 40
    # Pixels the truth makes blue and their neighbours aside: that is where the silhouette
    # itself sits (its accuracy is the next test's), not colour bled into the fill.
    t8 = np.round(truth * 255).astype(np.int16)
    truth_blue = (t8[..., 2] > np.maximum(t8[..., 0], t8[..., 1]) + 40).astype(np.uint8)
    wanted = revealed & ~(cv2.dilate(truth_blue, np.ones((3, 3), np.uint8)) > 0)
    assert not blue[wanted].any(), f"{blue[wanted].mean():.2%} of the revealed pixels are blue"
    # ... and what fills them is the wall's grey, not a dark or a washed-out guess.
    grey = truth[revealed].mean() * 255
    assert abs(out[revealed].mean() - grey) < 20


# --- silhouettes of the procedural example ---------------------------------------------------


def _supersampled_truth(camera, samples: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The example ray-cast at samples x samples per pixel, box-averaged (anti-aliased), and
    its depth at the pixel centres."""
    big = camera.resized(camera.width * samples, camera.height * samples)
    rgb, _ = render_example(big)
    rgb = rgb.reshape(camera.height, samples, camera.width, samples, 3).mean(axis=(1, 3))
    _, depth = render_example(camera)
    return rgb, depth


def _silhouette_band(depth: np.ndarray, radius: int = 2, jump: float = 0.02) -> np.ndarray:
    """Pixels within ``radius`` of a neighbour pair whose depths differ by more than ``jump``
    (relative); the sky (inf) counts as a jump."""
    import cv2

    d = np.where(np.isfinite(depth), depth, 1e4)
    edges = np.zeros(d.shape, bool)
    for a, b, sa, sb in (
        (d[:, 1:], d[:, :-1], np.s_[:, 1:], np.s_[:, :-1]),
        (d[1:, :], d[:-1, :], np.s_[1:, :], np.s_[:-1, :]),
    ):
        j = np.abs(a - b) > jump * np.minimum(a, b)
        edges[sa] |= j
        edges[sb] |= j
    return cv2.dilate(edges.astype(np.uint8), np.ones((2 * radius + 1,) * 2, np.uint8)) > 0


def _band_psnr(render: np.ndarray, truth: np.ndarray, band: np.ndarray) -> float:
    diff = render.astype(np.float64)[band] / 255.0 - truth[band]
    return float(10 * np.log10(1.0 / np.mean(diff * diff)))


#: Measured 2026-12-01 with the default options at 320 x 180: 26.87, 26.30 and 25.05 dB. The
#: floor is 1 dB under today's; a rubber sheet (no cuts: --cut-threshold 100, the largest;
#: silhouettes smeared over the gap) scores 2.1, 1.7 and 1.6 dB under today's, below the
#: floor (checked below), so the test catches smeared or misplaced silhouettes, not a change
#: of fill.
BAND_FLOOR_DB = {"truck-orbit": 25.8, "dolly": 25.3, "orbit": 24.0}


@pytest.mark.parametrize(
    "name, pose",
    [
        ("truck-orbit", pose_from(rotation_y(-3.0), np.array([0.25, 0.0, 0.3]))),
        ("dolly", pose_from(np.eye(3), np.array([0.0, -0.1, 0.8]))),
        ("orbit", pose_from(rotation_y(-8.0), np.array([0.5, 0.0, 0.1]))),
    ],
)
def test_silhouette_band_against_anti_aliased_truth(name, pose):
    width, height = 320, 180
    picture, depth = example_inputs(width, height)
    source = example_camera(width, height)
    photo = np.round(picture.pixels * 255).astype(np.uint8)
    truth, truth_depth = _supersampled_truth(source.with_pose(pose))
    band = _silhouette_band(truth_depth)
    assert 0.05 < band.mean() < 0.3
    out, sheet = (
        render_views(photo, depth.z, source.K, [pose]),
        render_views(photo, depth.z, source.K, [pose], cut_threshold=100.0),
    )
    score = _band_psnr(out[0], truth, band)
    assert score >= BAND_FLOOR_DB[name], f"silhouette band {score:.2f} dB"
    smeared = _band_psnr(sheet[0], truth, band)
    assert smeared < BAND_FLOOR_DB[name], f"a rubber sheet scores {smeared:.2f} dB"
