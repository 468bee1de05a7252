"""Novel views of real Middlebury photos against the real photos (issue #3's benchmark).

For each scene, the view with ground-truth disparity is the source (2003: im2, disparity/4;
2005: view1, disparity/2). Depth z = f * B / d with B = 1 and f = K[0, 0] = W (any f gives the
same views: the cameras only translate along x). Unknown disparities (0) are filled first
by the rule documented in :func:`fill_unknown`. Every other view k is rendered with the
camera moved by (k - ref) / 4 along +x and scored against the real photo k:

- full frame: PSNR and SSIM over the frame (2003's outer views without their black bands);
- disoccluded: the same on the pixels of view k that a z-buffered forward splat of the
  source leaves empty (what the source never saw).

Methods, all run here on the same data:
- ``stretch``: stillcam's mesh with no cuts and no fill (a continuous rubber sheet);
- ``bg-fill``: z-buffered forward splat; each hole takes the farther of its nearest left
  and right splatted neighbours along the row;
- ``stillcam``: ``stillcam.render_views`` with default options.

Run: python benchmarks/middlebury.py  (skips cleanly when ../shared/data is absent).
Writes benchmarks/results/middlebury.json and prints the table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
#: Black no-data bands of the 2003 outer views: view -> (side, columns masked).
BANDS_2003 = {0: ("right", 26), 1: ("right", 13), 7: ("left", 13), 8: ("left", 26)}


@dataclass(frozen=True)
class Scene:
    name: str
    dataset: str
    ref: int
    image: np.ndarray  # (H, W, 3) uint8 RGB
    disparity: np.ndarray  # (H, W) float64 px, unknowns filled
    views: dict[int, np.ndarray]  # k -> (H, W, 3) uint8 RGB


def _rgb(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].copy()


def fill_unknown(disparity: np.ndarray) -> np.ndarray:
    """Fill unknown (0) disparities: each takes the smaller (farther) of its nearest known
    left and right neighbours along the row (unknowns are mostly occluded background); rows
    with no known value take the image's median."""
    out = disparity.astype(np.float64).copy()
    h, w = out.shape
    cols = np.arange(w)
    for y in range(h):
        known = out[y] > 0
        if not known.any():
            out[y] = np.median(disparity[disparity > 0])
            continue
        idx = cols[known]
        left = np.maximum.accumulate(np.where(known, cols, -1))
        right = np.minimum.accumulate(np.where(known, cols, w)[::-1])[::-1]
        lv = np.where(left >= 0, out[y, np.clip(left, 0, w - 1)], np.inf)
        rv = np.where(right < w, out[y, np.clip(right, 0, w - 1)], np.inf)
        fill = np.minimum(lv, rv)
        out[y, ~known] = fill[~known]
        del idx
    return out


def load_scenes() -> list[Scene]:
    scenes = []
    for name in ("teddy", "cones"):
        folder = DATA / "middlebury2003" / name
        if folder.is_dir():
            disp = cv2.imread(str(folder / "disp2.png"), cv2.IMREAD_UNCHANGED).astype(np.float64) / 4.0
            views = {k: _rgb(folder / f"im{k}.png") for k in range(9) if k != 2}
            scenes.append(Scene(name, "2003", 2, _rgb(folder / "im2.png"), fill_unknown(disp), views))
    for name in ("Art", "Books", "Dolls", "Laundry", "Moebius", "Reindeer"):
        folder = DATA / "middlebury2005" / name
        if folder.is_dir():
            disp = cv2.imread(str(folder / "disp1.png"), cv2.IMREAD_UNCHANGED).astype(np.float64) / 2.0
            views = {k: _rgb(folder / f"view{k}.png") for k in range(7) if k != 1}
            scenes.append(Scene(name, "2005", 1, _rgb(folder / "view1.png"), fill_unknown(disp), views))
    return scenes


def splat(image: np.ndarray, disparity: np.ndarray, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Z-buffered forward splat: pixel x goes to round(x - d * shift). Returns (image, hit, disp)."""
    h, w = disparity.shape
    ys, xs = np.mgrid[0:h, 0:w]
    tx = np.rint(xs - disparity * shift).astype(int)
    valid = (tx >= 0) & (tx < w)
    order = np.argsort(disparity[valid], kind="stable")  # far first, near last wins
    out = np.zeros_like(image)
    out_d = np.full((h, w), -1.0)
    sy, sx, dx = ys[valid][order], xs[valid][order], tx[valid][order]
    out[sy, dx] = image[sy, sx]
    out_d[sy, dx] = disparity[sy, sx]
    return out, out_d >= 0, out_d


def bg_fill(image: np.ndarray, disparity: np.ndarray, shift: float) -> np.ndarray:
    """The bg-fill baseline: splat, then holes take the farther nearest neighbour in the row."""
    out, hit, out_d = splat(image, disparity, shift)
    h, w = hit.shape
    cols = np.arange(w)
    for y in range(h):
        if hit[y].all() or not hit[y].any():
            continue
        left = np.maximum.accumulate(np.where(hit[y], cols, -1))
        right = np.minimum.accumulate(np.where(hit[y], cols, w)[::-1])[::-1]
        ld = np.where(left >= 0, out_d[y, np.clip(left, 0, w - 1)], np.inf)
        rd = np.where(right < w, out_d[y, np.clip(right, 0, w - 1)], np.inf)
        source = np.where(ld <= rd, left, right)
        holes = ~hit[y]
        out[y, holes] = out[y, np.clip(source[holes], 0, w - 1)]
    return out


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM per pixel (Wang et al. 2004; Gaussian window sigma 1.5, 11 x 11), channel mean."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x):
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return (num / den).mean(axis=2)


def scores(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    if not mask.any():
        return float("nan"), float("nan")
    diff = (pred.astype(np.float64) - truth.astype(np.float64))[mask]
    mse = float(np.mean(diff**2))
    psnr = 10 * np.log10(255.0**2 / max(mse, 1e-12))
    return psnr, float(ssim_map(pred, truth)[mask].mean())


def frame_mask(scene: Scene, k: int) -> np.ndarray:
    h, w = scene.disparity.shape
    mask = np.ones((h, w), bool)
    if scene.dataset == "2003" and k in BANDS_2003:
        side, cols = BANDS_2003[k]
        if side == "right":
            mask[:, w - cols :] = False
        else:
            mask[:, :cols] = False
    return mask


def render_methods(scene: Scene, ks: list[int], options: dict) -> dict[str, list[np.ndarray]]:
    import stillcam

    h, w = scene.disparity.shape
    f = float(w)
    K = np.array([[f, 0.0, (w - 1) / 2], [0.0, f, (h - 1) / 2], [0.0, 0.0, 1.0]])
    depth = (f / scene.disparity).astype(np.float32)
    poses = []
    for k in ks:
        pose = np.eye(4)
        pose[0, 3] = (k - scene.ref) / 4.0
        poses.append(pose)
    return {
        "stretch": stillcam.render_views(
            scene.image, depth, K, poses, stride=1, cut_threshold=100.0, fill="nearest", outpaint="nearest"
        ),
        "bg-fill": [bg_fill(scene.image, scene.disparity, (k - scene.ref) / 4.0) for k in ks],
        "stillcam": stillcam.render_views(scene.image, depth, K, poses, stride=1, **options),
    }


def bin_of(distance: int) -> str:
    return f"d={distance}" if distance < 4 else "d=4+"


def run(options: dict) -> dict:
    table: dict = defaultdict(lambda: defaultdict(list))
    timings = {}
    for scene in load_scenes():
        ks = sorted(scene.views)
        start = time.perf_counter()
        outputs = render_methods(scene, ks, options)
        timings[scene.name] = time.perf_counter() - start
        for i, k in enumerate(ks):
            truth = scene.views[k]
            mask = frame_mask(scene, k)
            _, hit, _ = splat(scene.image, scene.disparity, (k - scene.ref) / 4.0)
            key = (scene.dataset, bin_of(abs(k - scene.ref)))
            for method, images in outputs.items():
                full = scores(images[i], truth, mask)
                dis = scores(images[i], truth, mask & ~hit)
                table[key][method].append((*full, *dis))
    return {"table": table, "timings": timings}


def summarise(table: dict) -> list[dict]:
    rows = []
    for (dataset, distance), methods in sorted(table.items()):
        row = {"set": dataset, "distance": distance}
        for method, values in methods.items():
            arr = np.nanmean(np.array(values), axis=0)
            row[method] = {
                "full_psnr": arr[0],
                "full_ssim": arr[1],
                "dis_psnr": arr[2],
                "dis_ssim": arr[3],
                "views": len(values),
            }
        rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    methods = ["stretch", "bg-fill", "stillcam"]
    head = "| set, distance | " + " | ".join(f"{m} full" for m in methods) + " | "
    head += (
        " | ".join(f"{m} disoccl." for m in methods) + " | stillcam - best baseline (full / disoccl. dB) |"
    )
    print(head)
    print("|" + "---|" * (2 * len(methods) + 2))
    for row in rows:
        cells = [f"{row[m]['full_psnr']:.2f}/{row[m]['full_ssim']:.3f}" for m in methods]
        cells += [f"{row[m]['dis_psnr']:.2f}/{row[m]['dis_ssim']:.3f}" for m in methods]
        best_full = max(row[m]["full_psnr"] for m in methods[:2])
        best_dis = max(row[m]["dis_psnr"] for m in methods[:2])
        delta = (
            f"{row['stillcam']['full_psnr'] - best_full:+.2f} / {row['stillcam']['dis_psnr'] - best_dis:+.2f}"
        )
        print(f"| {row['set']} {row['distance']} | " + " | ".join(cells) + f" | {delta} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="stillcam option for the 'stillcam' method, e.g. --set fill=telea",
    )
    args = parser.parse_args()
    if not (DATA / "middlebury2003").is_dir() and not (DATA / "middlebury2005").is_dir():
        print("skipped: ../shared/data/middlebury2003 and middlebury2005 not found")
        return 0
    options = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    result = run(options)
    rows = summarise(result["table"])
    print_table(rows)
    print(
        "render time per scene (all methods, s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in result["timings"].items())
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "middlebury.json").write_text(json.dumps({"options": options, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
