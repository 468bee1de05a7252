from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest

from stillcam.errors import DepthError
from stillcam.io import read_depth_file


def _write_exr(path: Path, channels: dict[str, np.ndarray]) -> None:
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {k: np.ascontiguousarray(v, np.float32) for k, v in channels.items()}) as f:
        f.write(str(path))


def test_exr_prefers_z_then_depth(tmp_path: Path):
    z = np.full((4, 5), 2.5, np.float32)
    other = np.full((4, 5), 9.0, np.float32)
    _write_exr(tmp_path / "a.exr", {"R": other, "Z": z})
    assert read_depth_file(tmp_path / "a.exr").values[0, 0] == 2.5
    _write_exr(tmp_path / "b.exr", {"R": other, "depth": z})
    assert read_depth_file(tmp_path / "b.exr").values[0, 0] == 2.5
    _write_exr(tmp_path / "c.exr", {"R": other})
    assert read_depth_file(tmp_path / "c.exr").values[0, 0] == 9.0
    _write_exr(tmp_path / "d.exr", {"foo": other})
    with pytest.raises(DepthError, match="rename the depth channel"):
        read_depth_file(tmp_path / "d.exr")


def test_png16_float_tiff_and_npy(tmp_path: Path):
    codes = np.arange(20, dtype=np.uint16).reshape(4, 5) * 1000
    cv2.imwrite(str(tmp_path / "d.png"), codes)
    raw = read_depth_file(tmp_path / "d.png")
    assert raw.integer and raw.max_code == 65535 and raw.values[3, 4] == 19000
    floats = np.linspace(1, 3, 20, dtype=np.float32).reshape(4, 5)
    cv2.imwrite(str(tmp_path / "d.tif"), floats)
    raw = read_depth_file(tmp_path / "d.tif")
    assert not raw.integer
    np.testing.assert_array_equal(raw.values, floats)
    np.save(tmp_path / "d.npy", floats.astype(np.float64))
    np.testing.assert_array_equal(read_depth_file(tmp_path / "d.npy").values, floats)


def test_bad_depth_files(tmp_path: Path):
    with pytest.raises(DepthError, match="no such depth file"):
        read_depth_file(tmp_path / "missing.exr")
    (tmp_path / "junk.png").write_text("junk")
    with pytest.raises(DepthError, match="not a readable depth image"):
        read_depth_file(tmp_path / "junk.png")
    np.save(tmp_path / "line.npy", np.ones(5))
    with pytest.raises(DepthError, match="2-D"):
        read_depth_file(tmp_path / "line.npy")
