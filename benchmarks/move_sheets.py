"""Per-move contact sheets for docs/moves.md (issue #4).

For every move of the library (default parameters) and a few compositions, renders the
bundled demo scene with stillcam's own pipeline, subject = the blue sphere (``--target
0.66,0.6``), and writes docs/images/moves/NAME.jpg: first | middle | last frame, and a
top-down plot of the camera path (x right, z forward; grey: the scene's points in a band of
rows through the subject, seen from above; red: the subject; green: the start; blue: camera
positions with their view direction every few frames). It also prints a table of what the motion-safety
guard found for each move (reveal, collision) and writes it to benchmarks/results/.

Run: python benchmarks/move_sheets.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images" / "moves"
TILE = (320, 180)
PLOT = (200, 180)
TARGET = "0.66,0.6"  # the blue sphere (6.5 m); the default subject would be the far wall (14 m)
COMPOSITIONS = {
    "dolly-in-then-pan": "dolly-in(fraction=0.1) then pan(degrees=15)",
    "orbit-plus-handheld": "orbit(degrees=12) + handheld(degrees=1, mm=20, seed=3)",
}


def _label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (8 + 8 * len(text), 20), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def top_down(path, scene_points: np.ndarray, subject: np.ndarray) -> np.ndarray:
    """(PLOT) BGR image: scene points, subject and cameras seen from above (x right, z up)."""
    w, h = PLOT
    positions = np.array([c.pose[:3, 3] for c in path.cameras])
    forward = np.array([c.pose[:3, 2] for c in path.cameras])
    xs = np.concatenate([positions[:, 0], [subject[0]], np.percentile(scene_points[:, 0], [2, 98])])
    zs = np.concatenate([positions[:, 2], [subject[2]], [0.0, np.percentile(scene_points[:, 2], 98)]])
    span = max(xs.max() - xs.min(), zs.max() - zs.min(), 1e-6) * 1.15
    cx, cz = (xs.max() + xs.min()) / 2, (zs.max() + zs.min()) / 2

    def px(x: np.ndarray, z: np.ndarray) -> np.ndarray:
        u = (x - cx) / span * (h - 10) + w / 2
        v = h / 2 - (z - cz) / span * (h - 10)
        return np.stack([u, v], -1).round().astype(np.int32)

    image = np.full((h, w, 3), 255, np.uint8)
    for u, v in px(scene_points[:, 0], scene_points[:, 2]):
        if 0 <= u < w and 0 <= v < h:
            image[v, u] = (190, 190, 190)
    points = px(positions[:, 0], positions[:, 2])
    cv2.polylines(image, [points.reshape(-1, 1, 2)], False, (200, 90, 20), 1, cv2.LINE_AA)
    tips = px(positions[:, 0] + forward[:, 0] * span * 0.08, positions[:, 2] + forward[:, 2] * span * 0.08)
    for i in range(0, len(points), max(1, len(points) // 8)):
        cv2.line(image, tuple(points[i]), tuple(tips[i]), (200, 90, 20), 1, cv2.LINE_AA)
    cv2.circle(image, tuple(points[0]), 3, (0, 160, 0), -1)
    cv2.circle(image, tuple(points[-1]), 3, (200, 90, 20), -1)
    cv2.circle(image, tuple(px(np.array([subject[0]]), np.array([subject[2]]))[0]), 3, (0, 0, 220), -1)
    cv2.putText(image, "top view", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def sheet(name: str, move: str, picture, depth) -> tuple[np.ndarray, dict]:
    from stillcam import RenderOptions, ShotSettings, get_renderer
    from stillcam.camera import Camera, fit_output_camera
    from stillcam.camera.plan import move_context
    from stillcam.output.frames import display_frame
    from stillcam.pipeline import plan_shot
    from stillcam.scene.mesh import unproject

    shot = ShotSettings(move=move, size=f"{TILE[0]}x{TILE[1]}", duration=2.0, fps="24", target=TARGET)
    options = RenderOptions(shot=shot)
    scene, path, safety = plan_shot(picture, depth, options)
    renderer = get_renderer(options.render)
    n = len(path)
    middle = (n // 2, "middle")
    travel = np.array([np.linalg.norm(c.pose[:3, 3] - path.cameras[0].pose[:3, 3]) for c in path.cameras])
    if travel[-1] < 0.1 * travel.max():  # swing and lemniscate return to the start: show the far end
        middle = (int(travel.argmax()), "farthest")
    tiles = [
        _label(
            display_frame(renderer, scene, path.cameras[i], options.output, fill=options.scene.fills)[
                ..., ::-1
            ],
            f"{name}: {label}",
        )
        for i, label in ((0, "first"), middle, (n - 1, "last"))
    ]
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    context = move_context(fit_output_camera(source, *TILE), source, depth.z, shot)
    row = round(float(TARGET.split(",")[1]) * picture.height)  # a slice through the subject
    ys, xs = np.mgrid[row - picture.height // 8 : row + picture.height // 8 : 2, 0 : picture.width : 2]
    points = unproject(xs.astype(float), ys.astype(float), depth.z[ys, xs].astype(float), source).reshape(
        -1, 3
    )
    tiles.append(top_down(path, points, context.target))
    row = {"move": name, "expression": move, **safety.to_dict()}
    return np.concatenate(tiles, axis=1), row


def main() -> None:
    from stillcam import MOVES
    from stillcam.options import RenderOptions
    from stillcam.pipeline import demo_inputs

    picture, depth, _ = demo_inputs(f"{TILE[0] * 2}x{TILE[1] * 2}", RenderOptions())
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, move in [*((m, m) for m in MOVES if m not in ("arc", "dutch")), *COMPOSITIONS.items()]:
        image, row = sheet(name, move, picture, depth)
        cv2.imwrite(str(OUT / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 82])
        rows.append(row)
        collision = row["collision_frame"] or "-"
        print(f"{name:22} reveal {row['reveal']:6.1%} at {row['reveal_frame']}  collision {collision}")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "move_sheets.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
