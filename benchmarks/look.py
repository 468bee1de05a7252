"""The look of what the camera newly sees (issue #14): renders of exact scenes with real photo
textures against ray-cast truth, and of Middlebury's real photos against the real views.

Synthetic scenes (``look_scenes.py``; textures are crops of ``../shared/data/photos``): a back
wall and a floor (their textures tiled mirrored, real detail far past the source frame) with
foreground cards, discs and a sphere. ``cards``: three photo cards at 2.2-4 m before a canyon
wall at 8 m; ``blue-disc``: a saturated blue disc at 3.5 m and a grey disc before a grey gravel
wall at 6 m (the colour-bleeding case); ``sphere``: a textured sphere at 4 m (grazing rims)
and a card before a mountain wall at 7 m. The source view is the identity pose at 40°
horizontal field of view; its image is the ray-cast colour (2 x 2 samples per pixel, 4 x 4 at
silhouettes, box-averaged), its depth the exact z at the pixel centres. Moves, per scene with
D its subject distance: truck +5 % D (right), pedestal 5 % D up, dolly-in 15 % D, orbits about
(0, 0, D) at ±6, ±9, ±12° (looking at it). The truth of each pose is ray-cast at the same K.

Masks of a target pose (exact, from the caster): ``revealed`` = pixels whose hit point the
source camera does not see: ``past`` the frame (it projects outside the source frame) or
``behind`` (inside it, but something lies between the source camera and the point: an exact
shadow ray, 0.1 % tolerance); ``edge`` = the ±2 px band around the truth's silhouettes
(4-neighbours whose depths differ by > 2 %).

Metrics per pose and method: PSNR of the full frame, of revealed, behind, past and edge-band
pixels; texture ratio = mean 3 x 3 Sobel gradient magnitude of the luminance of the render
over revealed pixels / that of the truth (1 = as much texture as the truth, a smear ~0.1),
also on revealed pixels off the edge band (``tex_interior``: without the silhouette's own step);
blue = the fraction of revealed pixels, not blue in the truth, that the render makes blue
(B > max(R, G) + 40), shown for the blue-disc scene. Controls: PSNR and texture ratio on the
pixels the source saw, off the edge band (``seen``: ~42 dB and ~0.99 for stillcam on a truck
at 960x540, so the caster's geometry and stillcam's agree to well under a pixel).

Middlebury (real photos; ``middlebury.py`` loads them and fills unknown disparities; depth
z = f B / d with f = W, B = 1; view k = the camera moved (k - ref) / 4 along +x): 2003 teddy
and cones, source view 2, every other view as target; 2005 (six scenes), source view 1,
target view 5. Full-frame PSNR (2003's black bands masked), PSNR and texture ratio on the
disoccluded pixels (those a z-buffered forward splat of the source leaves empty, less the 1-px
cracks its rounding leaves on slanted surfaces; PSNR on all of them, as middlebury.py scores
"disoccluded", is reported as ``holes``), PSNR on the ±2 px band around the target's depth
edges (disp6 / disp5: neighbours both known whose disparities differ by > 2 px; GT targets).

Methods, all on the same inputs: ``stillcam`` = ``stillcam.render_views`` of this checkout
with default options (``--set KEY=VALUE`` changes them); ``--baseline REV``: the same through
commit REV (a temporary ``git worktree``; this script runs again in a subprocess with
PYTHONPATH=<worktree>/src and only renders, the parent scores); ``splat+telea`` = a z-buffered
forward splat of the source pixels (nearest pixel, nearest point wins), holes filled by
``cv2.inpaint`` TELEA, radius 3.

Run:
    .venv/bin/python benchmarks/look.py --quick                  # 640x360, 5 poses: ~35 s
    .venv/bin/python benchmarks/look.py                          # HD, 9 poses: ~3.5 min
    .venv/bin/python benchmarks/look.py --baseline 4e6144f --dump /tmp/look_dump
(times on the shared 2-core machine: --quick 25-35 s; HD 3.5 min, 4 min with --baseline, which
adds ~20 s per section for the older commit's renders in a fresh process; the ray-cast truth
is 100-130 s of the HD run, ~4x that at --size UHD.)
Prints one table per metric (rows scene x move, columns methods, a mean row) and a summary
(means per scene, one column per metric), writes benchmarks/results/look.json (``--name``).
``--dump DIR`` writes PNGs of one pose per scene (``--dump-pose``, default orbit+12) and of
each Middlebury GT target: source, truth, each method and ``masks`` (red = revealed behind,
or disoccluded on Middlebury; blue = revealed past the frame; green = the edge band).
Skips cleanly without ../shared/data/photos (and the Middlebury section without its data).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import look_scenes as ls
import middlebury as mb
from stillcam_run import save_results

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"HD": (1920, 1080), "UHD": (3840, 2160), "QUICK": (640, 360)}
BLUE_MARGIN = 40
MIDDLEBURY_GT = {"2003": 6, "2005": 5}


# --- inputs ----------------------------------------------------------------------------------


@dataclass
class Job:
    """One source view and the poses to render from it (what every method gets)."""

    name: str
    image: np.ndarray
    depth: np.ndarray
    K: np.ndarray
    poses: list[np.ndarray]


@dataclass
class Target:
    """The truth of one target pose and its masks."""

    scene: str
    move: str
    truth: np.ndarray
    masks: dict[str, np.ndarray]
    sobel: np.ndarray = field(repr=False, default=None)


def _rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def orbit(subject: float, degrees: float) -> np.ndarray:
    """Camera-to-world pose on the circle about (0, 0, subject), looking at it; + travels right."""
    pose = np.eye(4)
    pose[:3, :3] = _rot_y(-np.radians(degrees))
    pose[:3, 3] = pose[:3, :3] @ np.array([0.0, 0.0, -subject]) + np.array([0.0, 0.0, subject])
    return pose


def translation(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, 3] = (x, y, z)
    return pose


def moves(subject: float, quick: bool) -> list[tuple[str, np.ndarray]]:
    out = [
        ("truck", translation(x=0.05 * subject)),
        ("pedestal", translation(y=-0.05 * subject)),
        ("dolly-in", translation(z=0.15 * subject)),
    ]
    angles = (-9, 12) if quick else (-6, 6, -9, 9, -12, 12)
    return out + [(f"orbit{a:+d}", orbit(subject, a)) for a in angles]


def sobel(image: np.ndarray) -> np.ndarray:
    lum = ls.luminance(image)
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def synthetic_inputs(size: tuple[int, int], quick: bool, samples: int) -> tuple[list[Job], list[Target]]:
    width, height = size
    K = ls.intrinsics(width, height)
    jobs, targets = [], []
    for scene in ls.scenes():
        image, depth, _ = ls.render(scene, K, np.eye(4), width, height, samples)
        named = moves(scene.subject, quick)
        jobs.append(Job(scene.name, image, depth, K, [pose for _, pose in named]))
        for move, pose in named:
            truth, tdepth, _ = ls.render(scene, K, pose, width, height, samples)
            inside, occluded = ls.visibility(scene, K, pose, tdepth, (width, height))
            masks = {
                "all": np.ones((height, width), bool),
                "revealed": ~inside | occluded,
                "behind": inside & occluded,
                "past": ~inside,
                "edge": ls.edge_band(tdepth),
            }
            masks["interior"] = masks["revealed"] & ~masks["edge"]
            masks["seen"] = inside & ~occluded & ~masks["edge"]
            if scene.blue:
                masks["not_blue"] = masks["revealed"] & ~blue_pixels(truth)
            targets.append(Target(scene.name, move, truth, masks, sobel(truth)))
    return jobs, targets


def _depth_edges(disparity: np.ndarray, jump: float = 2.0, radius: int = 2) -> np.ndarray:
    known = disparity > 0
    edges = np.zeros(disparity.shape, bool)
    for sa, sb in ((np.s_[:, 1:], np.s_[:, :-1]), (np.s_[1:, :], np.s_[:-1, :])):
        j = known[sa] & known[sb] & (np.abs(disparity[sa] - disparity[sb]) > jump)
        edges[sa] |= j
        edges[sb] |= j
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.dilate(edges.astype(np.uint8), kernel) > 0


def _target_disparity(scene) -> np.ndarray:
    k = MIDDLEBURY_GT[scene.dataset]
    if scene.dataset == "2003":
        path, scale = mb.DATA / "middlebury2003" / scene.name / f"disp{k}.png", 4.0
    else:
        path, scale = mb.DATA / "middlebury2005" / scene.name / f"disp{k}.png", 2.0
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float64) / scale


def _without_cracks(hit: np.ndarray) -> np.ndarray:
    """The splat's hit mask with 1-px gaps along the rows closed: the rounding of a splat
    leaves such cracks on slanted surfaces (about half of its empty pixels on Middlebury);
    they are not disocclusions."""
    closed = hit.copy()
    closed[:, 1:-1] |= hit[:, :-2] & hit[:, 2:]
    return closed


def middlebury_inputs(quick: bool) -> tuple[list[Job], list[Target]]:
    """Jobs as in middlebury.render_methods: K with f = W, depth f / d, view k at (k - ref) / 4."""
    jobs, targets = [], []
    for scene in mb.load_scenes():
        gt = MIDDLEBURY_GT[scene.dataset]
        ks = sorted(scene.views) if scene.dataset == "2003" and not quick else [gt]
        h, w = scene.disparity.shape
        f = float(w)
        K = np.array([[f, 0.0, (w - 1) / 2], [0.0, f, (h - 1) / 2], [0.0, 0.0, 1.0]])
        depth = (f / scene.disparity).astype(np.float32)
        jobs.append(
            Job(scene.name, scene.image, depth, K, [translation(x=(k - scene.ref) / 4.0) for k in ks])
        )
        for k in ks:
            frame = mb.frame_mask(scene, k)
            _, hit, _ = mb.splat(scene.image, scene.disparity, (k - scene.ref) / 4.0)
            masks = {"all": frame, "revealed": frame & ~_without_cracks(hit), "holes": frame & ~hit}
            masks["edge"] = frame & _depth_edges(_target_disparity(scene)) if k == gt else frame & False
            truth = scene.views[k]
            targets.append(Target(f"{scene.dataset} {scene.name}", f"view {k}", truth, masks, sobel(truth)))
    return jobs, targets


# --- methods ---------------------------------------------------------------------------------


def render_stillcam(jobs: list[Job], options: dict) -> dict[str, list[np.ndarray]]:
    import stillcam

    return {
        job.name: stillcam.render_views(job.image, job.depth, job.K, job.poses, **options) for job in jobs
    }


def splat_telea(job: Job, pose: np.ndarray) -> np.ndarray:
    """Z-buffered forward splat of every source pixel to its nearest target pixel (nearest
    point wins), then cv2.inpaint TELEA (radius 3) for the holes."""
    h, w = job.depth.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    K = job.K
    z = job.depth.astype(np.float64)
    points = np.stack([(xs - K[0, 2]) / K[0, 0] * z, (ys - K[1, 2]) / K[1, 1] * z, z], axis=-1).reshape(-1, 3)
    cam = (points - pose[:3, 3]) @ pose[:3, :3]  # R^T (p - t), row vectors
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.rint(K[0, 0] * cam[:, 0] / cam[:, 2] + K[0, 2])
        v = np.rint(K[1, 1] * cam[:, 1] / cam[:, 2] + K[1, 2])
    ok = (cam[:, 2] > 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(-cam[idx, 2], kind="stable")]  # far first, the nearest written last
    out = np.zeros((h * w, 3), np.uint8)
    hit = np.zeros(h * w, bool)
    dest = v[idx].astype(np.int64) * w + u[idx].astype(np.int64)
    out[dest] = job.image.reshape(-1, 3)[idx]
    hit[dest] = True
    holes = (~hit).reshape(h, w).astype(np.uint8)
    return cv2.inpaint(out.reshape(h, w, 3), holes, 3, cv2.INPAINT_TELEA)


def render_splat_telea(jobs: list[Job]) -> dict[str, list[np.ndarray]]:
    return {job.name: [splat_telea(job, pose) for pose in job.poses] for job in jobs}


def save_jobs(jobs: list[Job], path: Path) -> None:
    arrays = {"names": np.array(json.dumps([job.name for job in jobs]))}
    for j, job in enumerate(jobs):
        arrays |= {f"{j}_image": job.image, f"{j}_depth": job.depth, f"{j}_K": job.K}
        arrays[f"{j}_poses"] = np.stack(job.poses)
    np.savez(path, **arrays)


def load_jobs(path: Path) -> list[Job]:
    data = np.load(path)
    names = json.loads(str(data["names"]))
    return [
        Job(name, data[f"{j}_image"], data[f"{j}_depth"], data[f"{j}_K"], list(data[f"{j}_poses"]))
        for j, name in enumerate(names)
    ]


def child_main(jobs_path: Path, out_path: Path, options: dict) -> int:
    """--render-jobs: render the jobs with whatever stillcam is importable, dump them as .npz."""
    import stillcam

    jobs = load_jobs(jobs_path)
    start = time.perf_counter()
    renders = render_stillcam(jobs, options)
    seconds = time.perf_counter() - start
    arrays = {f"{j}_{i}": img for j, job in enumerate(jobs) for i, img in enumerate(renders[job.name])}
    meta = {"stillcam_file": stillcam.__file__, "render_s": seconds}
    np.savez(out_path, meta=np.array(json.dumps(meta)), **arrays)
    return 0


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def render_baseline(rev: str, jobs: list[Job], options: dict) -> tuple[dict, dict]:
    """The jobs rendered by stillcam at commit ``rev`` (a temporary worktree, removed after)."""
    commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}").strip()
    with tempfile.TemporaryDirectory(prefix="look-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", str(tree), commit)
        try:
            save_jobs(jobs, Path(tmp) / "jobs.npz")
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree / "src"), env.get("PYTHONPATH")]))
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--render-jobs",
                str(Path(tmp) / "jobs.npz"),
            ]
            command += ["--out", str(Path(tmp) / "out.npz")]
            command += [f"--set={k}={json.dumps(v)}" for k, v in options.items()]
            subprocess.run(command, check=True, env=env)
            data = np.load(Path(tmp) / "out.npz")
            meta = json.loads(str(data["meta"]))
            renders = {
                job.name: [data[f"{j}_{i}"] for i in range(len(job.poses))] for j, job in enumerate(jobs)
            }
        finally:
            _git("worktree", "remove", "--force", str(tree))
    if not Path(meta["stillcam_file"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"baseline imported {meta['stillcam_file']}, not the worktree of {commit}")
    meta["commit"] = commit
    return renders, meta


# --- metrics ---------------------------------------------------------------------------------


def blue_pixels(image: np.ndarray) -> np.ndarray:
    rgb = image.astype(np.int16)
    return rgb[..., 2] > np.maximum(rgb[..., 0], rgb[..., 1]) + BLUE_MARGIN


def psnr(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    if not mask.any():
        return float("nan")
    diff = pred.astype(np.float64)[mask] - truth.astype(np.float64)[mask]
    return float(10 * np.log10(255.0**2 / max(float(np.mean(diff * diff)), 1e-12)))


def texture_ratio(pred_sobel: np.ndarray, truth_sobel: np.ndarray, mask: np.ndarray) -> float:
    if not mask.any():
        return float("nan")
    return float(pred_sobel[mask].mean() / max(float(truth_sobel[mask].mean()), 1e-9))


def score(render: np.ndarray, target: Target) -> dict[str, float]:
    m = target.masks
    out = {
        f"psnr_{k}": psnr(render, target.truth, m[k])
        for k in ("all", "revealed", "behind", "past", "edge", "seen", "holes")
        if k in m
    }
    grad = sobel(render)
    out["tex_revealed"] = texture_ratio(grad, target.sobel, m["revealed"])
    for k in ("interior", "seen"):
        if k in m:
            out[f"tex_{k}"] = texture_ratio(grad, target.sobel, m[k])
    if "not_blue" in m:
        out["blue"] = (
            float(blue_pixels(render)[m["not_blue"]].mean()) if m["not_blue"].any() else float("nan")
        )
    return out


def evaluate(targets: list[Target], jobs: list[Job], renders: dict[str, dict]) -> list[dict]:
    """One row per target: its mask fractions and each method's metrics."""
    flat = {method: [img for job in jobs for img in per_job[job.name]] for method, per_job in renders.items()}
    rows = []
    for i, target in enumerate(targets):
        frame = target.masks["all"]
        row = {"scene": target.scene, "move": target.move}
        for k in ("revealed", "behind", "past", "edge", "holes"):
            if k in target.masks:
                row[f"frac_{k}"] = float(target.masks[k][frame].mean())
        row["methods"] = {method: score(images[i], target) for method, images in flat.items()}
        rows.append(row)
    return rows


# --- output ----------------------------------------------------------------------------------

SYNTHETIC_METRICS = [
    ("psnr_all", "PSNR full frame (dB)"),
    ("psnr_revealed", "PSNR revealed (dB)"),
    ("psnr_behind", "PSNR revealed behind (disocclusion, dB)"),
    ("psnr_past", "PSNR revealed past the frame (dB)"),
    ("psnr_edge", "PSNR ±2 px silhouette band (dB)"),
    ("tex_revealed", "texture ratio, revealed (render / truth Sobel)"),
    ("tex_interior", "texture ratio, revealed off the edge band"),
    ("blue", "blue-dominant fraction of revealed non-blue pixels"),
    ("psnr_seen", "control: PSNR on pixels the source saw, off the edge band (dB)"),
    ("tex_seen", "control: texture ratio on pixels the source saw, off the edge band"),
]
MIDDLEBURY_METRICS = [
    ("psnr_all", "PSNR full frame (dB)"),
    ("psnr_revealed", "PSNR disoccluded (dB)"),
    ("tex_revealed", "texture ratio, disoccluded"),
    ("psnr_edge", "PSNR ±2 px depth-edge band (dB), GT targets"),
    ("psnr_holes", "PSNR on all the splat's empty pixels, 1-px cracks included (middlebury.py's mask, dB)"),
]


def _mean(values) -> float:
    arr = np.asarray(list(values), np.float64)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def _cell(value: float, metric: str) -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:.3f}" if metric.startswith(("tex", "blue")) else f"{value:.2f}"


def print_tables(title: str, rows: list[dict], metrics: list[tuple[str, str]], methods: list[str]) -> None:
    fracs = [f"frac_{k}" for k in ("revealed", "behind", "past", "edge", "holes") if f"frac_{k}" in rows[0]]
    print(f"\n## {title}: share of the frame (%)\n")
    print("| scene | move | " + " | ".join(k[5:] for k in fracs) + " |")
    print("|---|---|" + "---:|" * len(fracs))
    for row in rows:
        print(
            f"| {row['scene']} | {row['move']} | " + " | ".join(f"{100 * row[k]:.1f}" for k in fracs) + " |"
        )
    for metric, label in metrics:
        shown = [r for r in rows if metric in r["methods"][methods[0]]]
        shown = [r for r in shown if any(r["methods"][m][metric] == r["methods"][m][metric] for m in methods)]
        if not shown:
            continue
        print(f"\n## {title}: {label}\n")
        print("| scene | move | " + " | ".join(methods) + " |")
        print("|---|---|" + "---:|" * len(methods))
        for row in shown:
            cells = [_cell(row["methods"][m][metric], metric) for m in methods]
            print(f"| {row['scene']} | {row['move']} | " + " | ".join(cells) + " |")
        means = [_mean(r["methods"][m][metric] for r in shown) for m in methods]
        print(f"| **mean** | {len(shown)} | " + " | ".join(_cell(v, metric) for v in means) + " |")


def print_summary(title: str, rows: list[dict], metrics: list[tuple[str, str]], methods: list[str]) -> None:
    """Means per scene (and over all rows): one column per metric, cells = the methods in order."""
    print(f"\n## {title}: summary, means per scene (cells: {' / '.join(methods)})\n")
    names = [metric for metric, _ in metrics if any(metric in r["methods"][methods[0]] for r in rows)]
    print("| scene | rows | " + " | ".join(names) + " |")
    print("|---|---:|" + "---|" * len(names))
    groups = {
        scene: [r for r in rows if r["scene"] == scene] for scene in dict.fromkeys(r["scene"] for r in rows)
    }
    groups["all"] = rows
    for scene, group in groups.items():
        cells = []
        for metric in names:
            means = [_mean(r["methods"][m].get(metric, np.nan) for r in group) for m in methods]
            cells.append(" / ".join(_cell(v, metric) for v in means))
        print(f"| {scene} | {len(group)} | " + " | ".join(cells) + " |")


def _png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]) if rgb.ndim == 3 else rgb)


def dump(folder: Path, jobs: list[Job], targets: list[Target], renders: dict, wanted) -> list[Path]:
    """PNGs of the targets ``wanted(target)`` picks: source, truth, each method, masks."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    i = 0
    for job in jobs:
        for p in range(len(job.poses)):
            target = targets[i]
            if wanted(target):
                stem = f"{target.scene}_{target.move}".replace(" ", "_").replace("+", "p")
                mask = np.zeros(target.truth.shape, np.uint8)
                mask[..., 0] = np.where(target.masks.get("behind", target.masks["revealed"]), 255, 0)
                mask[..., 2] = np.where(target.masks.get("past", False), 255, 0)
                mask[..., 1] = np.where(target.masks["edge"], 160, 0)
                images = {"source": job.image, "truth": target.truth, "masks": mask}
                images |= {m.replace("+", "_"): per_job[job.name][p] for m, per_job in renders.items()}
                for name, img in images.items():
                    written.append(folder / f"{stem}_{name}.png")
                    _png(written[-1], img)
            i += 1
    return written


# --- main ------------------------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    if text.upper() in SIZES:
        return SIZES[text.upper()]
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def parse_options(items: list[str]) -> dict:
    options = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--size", default="HD", help="synthetic scenes' size: HD, UHD or WxH (default HD)")
    parser.add_argument("--quick", action="store_true", help="640x360, 5 poses, Middlebury GT targets only")
    parser.add_argument("--baseline", metavar="REV", help="also render through stillcam at commit REV")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="stillcam option for both stillcam methods, e.g. --set fill=patch",
    )
    parser.add_argument("--samples", type=int, default=4, help="samples per pixel side at silhouettes")
    parser.add_argument("--no-middlebury", action="store_true", help="skip the Middlebury section")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="write PNGs of one pose per scene")
    parser.add_argument("--dump-pose", default="orbit+12", help="the synthetic pose to dump")
    parser.add_argument("--name", default="look", help="results file benchmarks/results/NAME.json")
    parser.add_argument(
        "--model-like-depth",
        action="store_true",
        help="give every method the exact depth degraded as a model's (518 px, blurred edges, "
        "stillcam's edge-snapping upsampler) instead of the exact one",
    )
    parser.add_argument("--render-jobs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


#: Long side (px) of a depth model's output, as Depth Anything V2 gives it (``--model-like-depth``).
MODEL_PX = 518


def model_like(depth: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Exact depth made to look like a model's: inverse depth at MODEL_PX (area filter), edges
    blurred over about a model pixel, then brought back by stillcam's own edge-snapping
    upsampler (``depth/upsample.py``, what an estimate goes through)."""
    from stillcam.depth.upsample import snap_upsample

    h, w = depth.shape
    scale = MODEL_PX / max(h, w)
    small = cv2.resize(
        (1.0 / depth).astype(np.float32), (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), 0.8)
    up = snap_upsample(small, image.astype(np.float32) / 255.0)
    return (1.0 / np.maximum(up, 1e-6)).astype(np.float32)


def run_methods(jobs: list[Job], args: argparse.Namespace, options: dict) -> tuple[dict, dict]:
    renders, meta = {}, {}
    start = time.perf_counter()
    renders["stillcam"] = render_stillcam(jobs, options)
    meta["stillcam"] = {"render_s": time.perf_counter() - start, "commit": _git("rev-parse", "HEAD").strip()}
    meta["stillcam"]["dirty"] = bool(_git("status", "--porcelain", "--", "src").strip())
    if args.baseline:
        start = time.perf_counter()
        renders[f"stillcam@{args.baseline}"], meta[f"stillcam@{args.baseline}"] = render_baseline(
            args.baseline, jobs, options
        )
        meta[f"stillcam@{args.baseline}"]["wall_s"] = time.perf_counter() - start
    start = time.perf_counter()
    renders["splat+telea"] = render_splat_telea(jobs)
    meta["splat+telea"] = {"render_s": time.perf_counter() - start}
    return renders, meta


def section(title, inputs, args, options, metrics, wanted, timings) -> dict:
    start = time.perf_counter()
    jobs, targets = inputs()
    if args.model_like_depth:  # every method gets the same degraded depth; the truth stays exact
        jobs = [replace(job, depth=model_like(job.depth, job.image)) for job in jobs]
    timings[f"{title} truth_s"] = time.perf_counter() - start
    renders, meta = run_methods(jobs, args, options)
    rows = evaluate(targets, jobs, renders)
    print_tables(title, rows, metrics, list(renders))
    print_summary(title, rows, metrics, list(renders))
    if args.dump:
        written = dump(args.dump, jobs, targets, renders, wanted)
        print(f"\n{len(written)} PNGs written to {args.dump}")
    return {"rows": rows, "methods": meta}


def finite(data):
    """``data`` with NaN (an empty mask) as None, so that the JSON is strict."""
    if isinstance(data, float):
        return None if data != data else data
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite(v) for v in data]
    return data


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    options = parse_options(args.set)
    if args.render_jobs:
        return child_main(args.render_jobs, args.out, options)
    if not ls.PHOTOS.is_dir():
        print(f"skipped: {ls.PHOTOS} not found")
        return 0
    size = SIZES["QUICK"] if args.quick else parse_size(args.size)
    start = time.perf_counter()
    timings: dict[str, float] = {}
    result = {"size": list(size), "quick": args.quick, "options": options, "baseline": args.baseline}
    result["command"] = " ".join(["benchmarks/look.py", *(argv if argv is not None else sys.argv[1:])])
    result["synthetic"] = section(
        f"synthetic {size[0]}x{size[1]}",
        lambda: synthetic_inputs(size, args.quick, args.samples),
        args,
        options,
        SYNTHETIC_METRICS,
        lambda t: t.move == args.dump_pose,
        timings,
    )
    have_middlebury = (mb.DATA / "middlebury2003").is_dir() or (mb.DATA / "middlebury2005").is_dir()
    if not args.no_middlebury and not have_middlebury:
        print(f"\nMiddlebury skipped: {mb.DATA}/middlebury2003 and middlebury2005 not found")
    if not args.no_middlebury and have_middlebury:
        result["middlebury"] = section(
            "Middlebury",
            lambda: middlebury_inputs(args.quick),
            args,
            options,
            MIDDLEBURY_METRICS,
            lambda t: t.move == f"view {MIDDLEBURY_GT[t.scene.split()[0]]}",
            timings,
        )
    timings["total_s"] = time.perf_counter() - start
    result["timings"] = timings
    path = save_results(args.name, finite(result))
    print(
        f"\nwall time {timings['total_s']:.0f} s ({json.dumps({k: round(v, 1) for k, v in timings.items()})})"
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
