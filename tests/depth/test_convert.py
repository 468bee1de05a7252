import numpy as np
import pytest

from stillcam.depth import DepthSettings, depth_from_raw, resample_depth
from stillcam.errors import DepthError
from stillcam.io.depthfile import RawDepth


def _raw(values, integer=False):
    values = np.asarray(values, np.float32)
    return RawDepth(values, integer, 65535 if integer else 0, "d", "x")


def test_metric_depth_with_scale():
    z = depth_from_raw(_raw([[1000, 2000], [3000, 4000]], True), DepthSettings(depth_scale=0.001), focal_px=1)
    np.testing.assert_allclose(z, [[1, 2], [3, 4]])


def test_depth_remapped_between_near_and_far():
    z = depth_from_raw(_raw([[0, 5], [10, 10]]), DepthSettings(near=2.0, far=4.0), focal_px=1)
    np.testing.assert_allclose(z, [[2, 3], [4, 4]])


def test_inverse_depth_max_is_near_min_is_far():
    z = depth_from_raw(
        _raw([[0.0, 1.0], [0.5, 0.25]]), DepthSettings("inverse-depth", near=1.0, far=4.0), focal_px=1
    )
    # 1/z = 1/4 + v * (1 - 1/4)
    np.testing.assert_allclose(z, 1 / (0.25 + np.array([[0, 1], [0.5, 0.25]]) * 0.75), rtol=1e-6)


def test_disparity_needs_baseline_and_gives_fb_over_d():
    raw = _raw([[10.0, 20.0], [40.0, 5.0]])
    with pytest.raises(DepthError, match="baseline"):
        depth_from_raw(raw, DepthSettings("disparity"), focal_px=100)
    z = depth_from_raw(raw, DepthSettings("disparity", baseline=0.5), focal_px=100)
    np.testing.assert_allclose(z, 50.0 / raw.values)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0])
@pytest.mark.parametrize("kind", ["depth", "inverse-depth", "disparity"])
def test_invalid_values_rejected(bad, kind):
    with pytest.raises(DepthError):
        depth_from_raw(_raw([[1.0, bad], [1.0, 1.0]]), DepthSettings(kind, baseline=1.0), focal_px=1)


def test_zero_depth_and_near_far_order_rejected():
    with pytest.raises(DepthError, match="zero"):
        depth_from_raw(_raw([[0.0, 1.0], [1.0, 1.0]]), DepthSettings(), focal_px=1)
    with pytest.raises(DepthError, match="smaller"):
        depth_from_raw(_raw([[1.0, 2.0]] * 2), DepthSettings("inverse-depth", near=5, far=2), focal_px=1)


def test_resample_keeps_values_and_rejects_other_aspect():
    z = np.full((30, 40), 3.0, np.float32)
    assert resample_depth(z, 80, 60).shape == (60, 80)
    np.testing.assert_allclose(resample_depth(z, 80, 60), 3.0, rtol=1e-6)
    with pytest.raises(DepthError, match="aspect"):
        resample_depth(z, 80, 80)
