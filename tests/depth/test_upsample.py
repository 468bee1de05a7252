"""Edge-exact depth upsampling: a sharp-edged scene, its depth blurred to a model's 518 px,
brought back to 3840 px."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from stillcam.depth.upsample import bilinear_upsample, snap_radius, snap_upsample

W, H = 3840, 2160
LEVELS = np.array([2.0, 4.0, 10.0])


@pytest.fixture(scope="module")
def scene():
    """Photo (textured wall, a red disc at 2 m, a blue box at 4 m; sensor noise and a little
    optical blur), true depth, and the depth as a model would give it: inverse depth
    area-averaged to 518 px wide and blurred by one model pixel."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    wall = 0.5 + 0.15 * np.sin(xx / 23.0)[..., None] * np.array([1.0, 0.5, 0.2])
    photo = np.broadcast_to(wall, (H, W, 3)).astype(np.float32).copy()
    disc = (xx - 1500) ** 2 + (yy - 1000) ** 2 < 600**2
    box = (xx > 2500) & (xx < 3300) & (yy > 400) & (yy < 1800)
    photo[disc], photo[box] = (0.8, 0.2, 0.15), (0.2, 0.3, 0.8)
    photo = cv2.GaussianBlur(np.clip(photo + 0.03 * rng.standard_normal(photo.shape), 0, 1), (0, 0), 0.7)
    z = np.full((H, W), LEVELS[2], np.float32)
    z[disc], z[box] = LEVELS[0], LEVELS[1]
    small = cv2.resize(1.0 / z, (518, round(518 * H / W)), interpolation=cv2.INTER_AREA)
    return photo.astype(np.float32), z, cv2.GaussianBlur(small, (0, 0), 1.0)


def _edges(labels: np.ndarray) -> np.ndarray:
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    return edge


def _scores(z_true: np.ndarray, inverse: np.ndarray) -> tuple[float, float]:
    """(fraction of true edge pixels with an estimated edge within 2 px, fraction of pixels
    2-30 px from an edge whose depth is within 10 %)."""
    z = 1.0 / np.maximum(inverse, 1e-6)
    labels = np.abs(np.log(z)[..., None] - np.log(LEVELS)).argmin(-1)
    true_edge = _edges(np.abs(np.log(z_true)[..., None] - np.log(LEVELS)).argmin(-1))
    to_estimated = cv2.distanceTransform((~_edges(labels)).astype(np.uint8), cv2.DIST_L2, 5)
    placed = float((to_estimated[true_edge] <= 2.0).mean())
    to_true = cv2.distanceTransform((~true_edge).astype(np.uint8), cv2.DIST_L2, 5)
    band = (to_true > 2.0) & (to_true < 30.0)
    right = float((np.abs(np.log(z) - np.log(z_true))[band] < np.log(1.1)).mean())
    return placed, right


def test_snapped_edges_land_within_2_px_at_4k_and_bilinear_does_not(scene):
    photo, z, small = scene
    assert snap_radius(518, W) == 19
    placed, right = _scores(z, snap_upsample(small, photo))
    base_placed, base_right = _scores(z, bilinear_upsample(small, W, H))
    print(
        f"snap: edges within 2 px {placed:.4f}, right depth beyond 2 px {right:.4f}; "
        f"bilinear: {base_placed:.4f}, {base_right:.4f}"
    )
    assert placed >= 0.95 and right >= 0.95
    assert base_right < 0.8  # the bilinear ramp leaves a wide band of in-between depths


def test_flat_depth_and_colourless_edges_keep_the_bilinear_values(scene):
    photo, _, small = scene
    flat = np.full_like(small, 0.25)
    np.testing.assert_array_equal(
        snap_upsample(flat, photo[:540, :960]), np.full((540, 960), 0.25, np.float32)
    )
    grey = np.full((540, 960, 3), 0.5, np.float32)  # a depth edge with no colour edge
    np.testing.assert_array_equal(snap_upsample(small, grey), bilinear_upsample(small, 960, 540))
