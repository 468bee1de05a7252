"""How fast the web app answers (``stillcam serve``'s API through FastAPI's test client, in
process): upload, first preview, previews after a move parameter changes, and the preview
mesh and texture. Photo: ``nasa-53884.jpg`` (12.1 MP) with the synthetic layered depth of
scene_build.py; move ``orbit`` at 8, 8, 10 and 12 degrees, HD output.

Run: python benchmarks/web_preview.py   (table + benchmarks/results/web_preview.json)
Skips when the photo or the extra 'web' is absent.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scene_build import synthetic_depth
from speed import PHOTO_12MP
from stillcam_run import save_results


def main() -> int:
    try:
        from fastapi.testclient import TestClient

        from stillcam.web.server import ServeSettings, create_app
    except ImportError as exc:
        print(f"skipped: {exc}")
        return 0
    if not PHOTO_12MP.is_file():
        print("skipped: ../shared/data/photos/nasa-53884.jpg is absent")
        return 0
    from PIL import Image

    with Image.open(PHOTO_12MP) as image:
        z = synthetic_depth(image.width, image.height).astype(np.float32)
    depth = io.BytesIO()
    np.save(depth, z)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        client = TestClient(create_app(ServeSettings(Path(folder))))
        start = time.perf_counter()
        files = {"photo": ("p.jpg", PHOTO_12MP.read_bytes()), "depth": ("d.npy", depth.getvalue())}
        photo = client.post("/api/photos", files=files).json()["id"]
        rows.append({"step": "upload 12 MP photo + depth", "s": time.perf_counter() - start})
        for i, degrees in enumerate((8, 8, 10, 12)):
            options = {"move": f"orbit(degrees={degrees})", "size": "HD"}
            start = time.perf_counter()
            preview = client.post("/api/preview", json={"photo": photo, "options": options}).json()
            label = "first preview" if i == 0 else f"preview, degrees {degrees}"
            rows.append({"step": label, "s": time.perf_counter() - start})
        start = time.perf_counter()
        mesh = client.get(f"/api/scenes/{preview['scene']}/mesh.bin").content
        texture = client.get(f"/api/scenes/{preview['scene']}/texture.jpg").content
        rows.append(
            {
                "step": f"mesh {len(mesh) / 1e6:.1f} MB + texture {len(texture) / 1e6:.2f} MB",
                "s": time.perf_counter() - start,
            }
        )
    for row in rows:
        print(f"{row['step']:40} {row['s']:6.2f} s")
    save_results("web_preview", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
