"""Contact sheet: the stretch baseline against stillcam at the largest move (issue #3).

Row 1: Middlebury 2003 teddy, source im2 with ground-truth depth, camera moved to view 8
(6/4 of the baseline): stretch | stillcam | the real photo im8.
Row 2: a 4K photo (sean-afnan-244576.jpg, synthetic inverse-depth ramp 2-60 m), the last
frame of a 12 degree orbit rendered to UHD: stretch | stillcam, downscaled.
Row 3: 1:1 crops (512 px) of row 2 at the frame edge the orbit reveals.

Writes docs/contact-sheet.png. Run: python benchmarks/contact_sheet.py
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import middlebury  # benchmark helpers: scene loading, baselines

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "sean-afnan-244576.jpg"
STRETCH = {"stride": 1, "cut_threshold": 1e9, "fill": "nearest", "outpaint": "nearest"}


def _label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (8 + 11 * len(text), 26), (0, 0, 0), -1)
    cv2.putText(out, text, (5, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def middlebury_row(width: int) -> np.ndarray:
    import stillcam

    scene = next(s for s in middlebury.load_scenes() if s.name == "teddy")
    h, w = scene.disparity.shape
    K = np.array([[w, 0.0, (w - 1) / 2], [0.0, w, (h - 1) / 2], [0.0, 0.0, 1.0]])
    depth = (w / scene.disparity).astype(np.float32)
    pose = np.eye(4)
    pose[0, 3] = (8 - scene.ref) / 4.0
    stretch = stillcam.render_views(scene.image, depth, K, [pose], **STRETCH)[0]
    ours = stillcam.render_views(scene.image, depth, K, [pose], stride=1)[0]
    tiles = [_label(stretch, "stretch"), _label(ours, "stillcam"), _label(scene.views[8], "real view 8")]
    row = np.concatenate(tiles, axis=1)
    return cv2.resize(row, (width, round(row.shape[0] * width / row.shape[1])), interpolation=cv2.INTER_AREA)


def photo_rows(width: int) -> list[np.ndarray]:
    from stillcam import RenderOptions, RenderSettings, get_renderer, load_image
    from stillcam.camera import Camera, MoveContext, build_path, fit_output_camera, subject_depth
    from stillcam.camera.plan import ShotSettings
    from stillcam.depth import DepthMap
    from stillcam.output.frames import display_frame
    from stillcam.scene import SceneSettings
    from stillcam.scene.plan import scene_for

    picture = load_image(PHOTO)
    rows = np.linspace(0.0, 1.0, picture.height)[:, None] ** 2
    inverse = np.broadcast_to(1 / 60 + rows * (1 / 2 - 1 / 60), (picture.height, picture.width))
    depth = DepthMap((1.0 / inverse).astype(np.float32), "ramp", "-")
    source = Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm)
    start = fit_output_camera(source, 3840, 2160)
    path = build_path(
        "orbit",
        {"degrees": 12.0},
        MoveContext(start, subject_depth(depth.z)),
        duration_s=1.0,
        fps=Fraction(24),
    )
    frames = []
    for scene_settings in (
        SceneSettings(cut_threshold=1e9, fill="nearest", outpaint="nearest"),
        SceneSettings(),
    ):
        options = RenderOptions(shot=ShotSettings(size="UHD"), scene=scene_settings)
        scene = scene_for(picture, depth, source, path.cameras, options.scene)
        renderer = get_renderer(RenderSettings())
        frames.append(
            display_frame(renderer, scene, path.cameras[-1], options.output, fill=options.scene.fills)
        )
    half = width // 2
    small = [
        cv2.resize(f, (half, round(f.shape[0] * half / f.shape[1])), interpolation=cv2.INTER_AREA)
        for f in frames
    ]
    top = np.concatenate([_label(small[0], "stretch, UHD"), _label(small[1], "stillcam, UHD")], axis=1)
    crops = [f[800:1312, 3840 - 512 : 3840] for f in frames]
    crops = [cv2.resize(c, (half, half), interpolation=cv2.INTER_NEAREST) for c in crops]
    bottom = np.concatenate(
        [
            _label(crops[0], "stretch, 1:1 crop at the edge"),
            _label(crops[1], "stillcam, 1:1 crop at the edge"),
        ],
        axis=1,
    )
    return [top, bottom]


def main() -> int:
    if not (middlebury.DATA / "middlebury2003" / "teddy").is_dir() or not PHOTO.is_file():
        print("skipped: ../shared/data (Middlebury teddy and the 4K photo) not found")
        return 0
    width = 1500
    rows = [middlebury_row(width), *photo_rows(width)]
    sheet = np.concatenate([np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)
    out = ROOT / "docs" / "contact-sheet.png"
    cv2.imwrite(str(out), sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {out.relative_to(ROOT)} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
