"""Fixtures of the batch tests: tiny stills (64x36 PNGs with ``.npy`` depths) and shot lists."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml


@dataclass(frozen=True)
class Stills:
    """Two small photos and a depth map, in ``folder``."""

    folder: Path
    a: Path
    b: Path
    depth: Path
    corrupt: Path


def _still(path: Path, seed: int) -> None:
    import cv2

    y, x = np.mgrid[0:36, 0:64].astype(np.float32)
    rng = np.random.default_rng(seed)
    image = np.stack([x * 4, y * 7, (x + y) * 2], axis=-1) + rng.normal(0, 8, (36, 64, 3))
    cv2.imwrite(str(path), np.clip(image, 0, 255).astype(np.uint8))


@pytest.fixture()
def stills(tmp_path: Path) -> Stills:
    """``tmp_path/in``: a.png, b.png (64x36), depth.npy (2..5 m, nearer at the bottom), and
    corrupt.png (not an image: a shot of it passes the list's checks and fails to render)."""
    folder = tmp_path / "in"
    folder.mkdir()
    _still(folder / "a.png", 1)
    _still(folder / "b.png", 2)
    depth = np.linspace(5.0, 2.0, 36, dtype=np.float32)[:, None] * np.ones((1, 64), np.float32)
    np.save(folder / "depth.npy", depth)
    (folder / "corrupt.png").write_bytes(b"not a png at all")
    return Stills(folder, folder / "a.png", folder / "b.png", folder / "depth.npy", folder / "corrupt.png")


def _write_yaml(path: Path, shots: list[dict[str, Any]], defaults: dict[str, Any] | None = None) -> Path:
    """A YAML shot list at ``path``."""
    data: dict[str, Any] = {"shots": shots}
    if defaults is not None:
        data["defaults"] = defaults
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    """A CSV shot list at ``path`` (the first row is the header)."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return path


@pytest.fixture()
def write_yaml():
    """``write_yaml(path, shots, defaults=None)``: a YAML shot list at ``path``."""
    return _write_yaml


@pytest.fixture()
def write_csv():
    """``write_csv(path, rows)``: a CSV shot list at ``path``, the first row its header."""
    return _write_csv
