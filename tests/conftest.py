"""Shared fixtures: tiny procedural scenes with exact ground truth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (no flaky CI); hypothesis still
# shrinks failures to a minimal example.
settings.register_profile("stillcam", derandomize=True, deadline=None)
settings.load_profile("stillcam")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.umask(0o022)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def small_example():
    """(picture, depth) of the procedural example at 160x90."""
    from stillcam.example.procedural import example_inputs

    return example_inputs(160, 90)


@pytest.fixture()
def photo_files(tmp_path: Path, small_example) -> tuple[Path, Path]:
    """The small example written as photo.png (8-bit) and depth.npy (metres)."""
    import cv2

    picture, depth = small_example
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.rint(picture.pixels[..., ::-1] * 255).astype(np.uint8))
    depth_path = tmp_path / "depth.npy"
    np.save(depth_path, depth.z)
    return photo, depth_path


# Runs inside Blender (bpy), started by tests/export/test_blender.py; not a test module.
collect_ignore = ["export/blender_check.py"]


@pytest.fixture()
def decoding(monkeypatch) -> list[str]:
    """Counts every decode of a photo, depth file or the bundled example by the pipeline."""
    calls: list[str] = []

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return wrapper

    from stillcam import pipeline

    for name in ("load_image", "read_depth_file", "example_inputs"):
        monkeypatch.setattr(pipeline, name, counting(name, getattr(pipeline, name)))
    return calls
