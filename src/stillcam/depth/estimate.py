"""Depth from the photo itself: run a registered model, upsample edge-exactly, cache.

``estimate_depth(picture, settings)`` -> :class:`Estimate` (the :class:`DepthMap`, the focal
length the model estimated if any, and the cache file that makes re-renders exact).

* Loading: ``from_pretrained`` on a local folder (``--model-dir``) or on the Hugging Face
  cache's snapshot of the pinned revision; with the hub reachable (``HF_HUB_OFFLINE`` unset) a
  missing snapshot is downloaded, otherwise one :class:`ModelUnavailableError` says what to do.
* torch and transformers are imported here only, lazily (extra ``models``); MoGe-2 runs on
  ONNX Runtime instead (:mod:`.moge`, same extra) and needs no torch.
* The model's output (inverse depth at its own resolution) is upsampled to the photo with
  :func:`~stillcam.depth.upsample.snap_upsample`, then cached on disk under the key
  (photo SHA-256, model, revision, upsampling). Depth results of torch vary with the thread
  count, so re-renders read the cache (the recipe names the file and its SHA-256) and never
  run the model again.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..conventions import focal_mm_to_px, focal_px_from_fov, focal_px_to_mm
from ..errors import InputError, MissingExtraError, ModelUnavailableError, StillcamError, missing_extra
from ..io.depthfile import RawDepth
from ..io.files import write_bytes_atomic
from ..io.hashing import sha256_file
from ..io.hub import hub_cache, hub_path
from ..io.image import Picture
from ..io.limits import one_line
from .convert import DEFAULT_FAR_M, DEFAULT_NEAR_M, DepthMap, DepthSettings, depth_from_raw
from .models import ModelSpec, get_model
from .moge import dir_revision, onnx_file, onnxruntime_module, run_moge
from .upsample import bilinear_upsample, check_snap_memory, snap_upsample

CACHE_ENV = "STILLCAM_CACHE_DIR"
_LOG = logging.getLogger("stillcam")


@dataclass(frozen=True, eq=False)
class Estimate:
    """A model's depth for one photo, at the photo's size.

    Attributes:
        inverse: (H, W) float32 inverse depth: 1/metres for metric models, relative (any
            positive scale, larger = nearer) for relative ones.
        metric: whether ``inverse`` is in 1/metres.
        fov_degrees: horizontal field of view the model estimated, or None.
        model: registry name; revision: the commit loaded.
        cache_file: the cached ``.npy`` holding ``inverse``; sha256: its hash.
    """

    inverse: np.ndarray
    metric: bool
    fov_degrees: float | None
    model: str
    revision: str
    cache_file: Path
    sha256: str


def cache_dir() -> Path:
    """``$STILLCAM_CACHE_DIR``, else ``$XDG_CACHE_HOME/stillcam``, else ``~/.cache/stillcam``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stillcam"


def _torch() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError:
        raise missing_extra("torch and transformers", "models") from None
    return torch, transformers


def _offline_message(spec: ModelSpec, reason: str) -> str:
    return (
        f"depth model {spec.name} ({spec.repo_id}@{spec.revision or 'main'}) is not on this machine "
        f"({reason}); on a connected machine run `stillcam models pull {spec.name}` and copy the Hugging "
        f"Face cache ({hub_cache()}) here, or pass --model-dir DIR, or give your own depth map with "
        "--depth FILE (no model needed)"
    )


def model_folder(
    spec: ModelSpec, model_dir: str | Path | None, *, download: bool | None = None
) -> tuple[Path, str]:
    """The folder to load ``spec`` from and the revision it holds.

    A ``model_dir`` is used as it is (revision ``dir:`` + a hash of its config and file
    sizes; for MoGe-2, of its ``.onnx`` file). Otherwise the Hugging Face cache's snapshot of
    the pinned revision; when it is missing and ``download`` (default: unless
    ``HF_HUB_OFFLINE`` is set) it is fetched.

    Raises:
        ModelUnavailableError: not on disk and not downloadable.
    """
    if model_dir is not None and spec.family == "moge":
        return Path(model_dir), dir_revision(Path(model_dir))
    if model_dir is not None:
        folder = Path(model_dir)
        config = folder / "config.json"
        if not config.is_file():
            raise InputError(
                f"--model-dir {folder}: no config.json there; give a folder saved by save_pretrained"
            )
        digest = hashlib.sha256(config.read_bytes())
        for file in sorted(folder.iterdir()):
            digest.update(f"{file.name}:{file.stat().st_size}".encode())
        return folder, "dir:" + digest.hexdigest()[:16]
    folder = hub_path(
        spec.repo_id,
        spec.revision,
        filename=None,
        download=download,
        extra="models",
        advice=lambda reason: _offline_message(spec, reason),
    )
    return folder, folder.name


@functools.lru_cache(maxsize=2)
def _loaded(folder: str, *, processor: bool) -> tuple[Any, Any]:
    """The image processor (when asked) and the model in ``folder``, loaded once per process:
    a batch worker or the web app estimating many photos with one model loads it once (a
    model folder is one revision's snapshot: its files do not change). Two kept at most."""
    _, transformers = _torch()
    loaded = (
        transformers.AutoImageProcessor.from_pretrained(folder, local_files_only=True) if processor else None
    )
    model = transformers.AutoModelForDepthEstimation.from_pretrained(folder, local_files_only=True).eval()
    return loaded, model


def _run_dpt(folder: Path, rgb: np.ndarray) -> np.ndarray:
    """Depth Anything / ZoeDepth: the repository's own image processor (the PIL one; no
    torchvision) and model. Returns the model's (h, w) float32 output."""
    torch, _ = _torch()
    processor, model = _loaded(str(folder), processor=True)
    kwargs = {"do_pad": False} if model.config.model_type == "zoedepth" else {}
    inputs = processor(images=rgb, return_tensors="pt", **kwargs)
    with torch.inference_mode():
        output = model(**inputs).predicted_depth
    return output[0].float().numpy()


def _run_depth_pro(folder: Path, rgb: np.ndarray) -> tuple[np.ndarray, float | None]:
    """Depth Pro, with its processor's steps done in torch (its processor needs torchvision):
    scale to [0, 1], normalise, resize to the configured square size. Returns canonical
    inverse depth (h, w) and the estimated horizontal field of view in degrees."""
    torch, _ = _torch()
    config = json.loads((folder / "preprocessor_config.json").read_text(encoding="utf-8"))
    size = config.get("size", {"height": 1536, "width": 1536})
    mean = torch.tensor(config.get("image_mean", [0.5, 0.5, 0.5])).view(1, 3, 1, 1)
    std = torch.tensor(config.get("image_std", [0.5, 0.5, 0.5])).view(1, 3, 1, 1)
    _, model = _loaded(str(folder), processor=False)
    pixels = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255.0
    pixels = torch.nn.functional.interpolate(
        (pixels - mean) / std, size=(size["height"], size["width"]), mode="bilinear", align_corners=False
    )
    with torch.inference_mode():
        output = model(pixel_values=pixels)
    fov = float(output.field_of_view.reshape(-1)[0]) if output.field_of_view is not None else None
    plausible = fov is not None and math.isfinite(fov) and 1.0 < fov < 179.0  # else: not an estimate
    return output.predicted_depth[0].float().numpy(), (fov if plausible else None)


def _run_plugin(spec: ModelSpec, rgb: np.ndarray) -> tuple[np.ndarray, float | None]:
    """A plug-in's ``estimate``, its failures and malformed outputs as one typed line.

    Raises:
        StillcamError: the plug-in raised, or returned no (h, w) map of numbers (exit 1).
    """
    try:
        raw, fov = spec.estimate(rgb)  # type: ignore[misc]
        with np.errstate(over="ignore", invalid="ignore"):
            raw = np.asarray(raw, np.float32)
        fov = None if fov is None else float(fov)
    except Exception as exc:  # a third party's error: said in one line, not as a traceback
        raise StillcamError(f"depth-model plug-in {spec.name} failed: {one_line(exc, 200)}") from None
    if raw.ndim != 2 or min(raw.shape) < 2:
        raise StillcamError(
            f"depth-model plug-in {spec.name} returned a map of shape {raw.shape}; "
            "it must be (h, w), at least 2x2"
        )
    return raw, (fov if fov is not None and math.isfinite(fov) and 1.0 < fov < 179.0 else None)


def _run_moge(folder: Path, rgb: np.ndarray, picture: Picture) -> tuple[np.ndarray, float | None]:
    """MoGe-2 (:mod:`.moge`): metric z at the model's size and the estimated horizontal field
    of view; a focal length from EXIF or the user is given to the model instead (it then
    solves only the depth shift, and estimates no field of view)."""
    hfov = None
    if picture.focal_source in ("exif", "user"):
        focal_px = focal_mm_to_px(picture.focal_mm, picture.width, picture.height)
        hfov = math.degrees(2.0 * math.atan(picture.width / (2.0 * focal_px)))
    return run_moge(onnx_file(folder), rgb, hfov_degrees=hfov)


def _key(picture: Picture, spec: ModelSpec, revision: str, upsample: str) -> str:
    known_focal = spec.family in ("depth-pro", "moge")  # a known focal length changes the depth
    focal = [picture.focal_mm, picture.focal_source] if known_focal else []
    text = json.dumps([picture.sha256, spec.name, spec.repo_id, revision, upsample, focal, 1])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cached(file: Path, sha256: str, model: str, revision: str) -> Estimate:
    """The :class:`Estimate` stored in ``file`` (+ its ``.json``), whose hash is ``sha256``.

    Raises:
        InputError: the cached files are damaged (not an (H, W) float array of finite values
            >= 0, or unreadable metadata).
    """
    try:
        meta = json.loads(file.with_suffix(".json").read_text(encoding="utf-8"))
        metric = meta["output"] == "metric"
        fov = meta.get("fov_degrees")
        inverse = np.load(file, allow_pickle=False)
        if fov is not None and not (isinstance(fov, (int, float)) and math.isfinite(fov)):
            raise ValueError(f"field of view {fov!r}")
        if (
            inverse.ndim != 2
            or inverse.dtype.kind != "f"
            or not np.isfinite(inverse).all()
            or inverse.min() < 0
        ):
            raise ValueError(f"an array of shape {inverse.shape} and type {inverse.dtype}")
    except (OSError, ValueError, TypeError, KeyError, AttributeError, EOFError) as exc:
        raise InputError(
            f"cached depth {file} is damaged ({one_line(exc, 100)}); delete it and render again"
        ) from None
    return Estimate(inverse, metric, fov, model, revision, file, sha256)


def _write_cache(file: Path, inverse: np.ndarray, meta: dict[str, Any]) -> None:
    """The metadata, then the array, each written whole under its final name or not at all."""
    file.parent.mkdir(parents=True, exist_ok=True)
    array = io.BytesIO()
    np.save(array, inverse)
    write_bytes_atomic(file.with_suffix(".json"), json.dumps(meta, indent=1).encode(), "depth cache")
    write_bytes_atomic(file, array.getvalue(), "depth cache")


def _to_inverse(raw: np.ndarray, spec: ModelSpec, fov: float | None, picture: Picture) -> np.ndarray:
    """The model's raw output as inverse depth: relative as is (clipped at 0), metric depth
    (ZoeDepth, MoGe-2) inverted, Depth Pro's canonical inverse depth scaled by 2 tan(hfov / 2)
    (= width / focal)."""
    raw = np.nan_to_num(raw.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if spec.output == "relative-inverse":
        return np.maximum(raw, 0.0)
    if spec.family == "depth-pro":
        if picture.focal_source in ("exif", "user") or fov is None:
            width_over_focal = picture.width / focal_mm_to_px(picture.focal_mm, picture.width, picture.height)
        else:
            width_over_focal = 2.0 * math.tan(math.radians(fov) / 2.0)
        return np.clip(raw, 1e-4, 1e4) * width_over_focal
    return 1.0 / np.clip(raw, 1e-3, 1e4)


def prepare_model(
    model: str,
    *,
    model_dir: str | Path | None = None,
    allow_noncommercial: bool = False,
    upsample: str = "snap",
) -> tuple[ModelSpec, Path | None, str]:
    """Every check before a model runs, cheap and in order: name and licence, options, the
    torch install, the weights on disk. Returns (spec, folder to load, revision).

    Raises:
        InputError, MissingExtraError, ModelUnavailableError: as :func:`estimate_depth`.
    """
    spec = get_model(model, allow_noncommercial=allow_noncommercial)
    if upsample not in ("snap", "bilinear"):
        raise InputError(f"--upsample {upsample!r}: choose snap or bilinear")
    if spec.family == "plugin":
        return spec, None, spec.revision or "plugin"
    if spec.family == "moge":  # the install hint before anything else
        onnxruntime_module()
    else:
        _torch()
    folder, revision = model_folder(spec, model_dir)
    return spec, folder, revision


def estimate_depth(
    picture: Picture,
    model: str,
    *,
    model_dir: str | Path | None = None,
    allow_noncommercial: bool = False,
    upsample: str = "snap",
    use_cache: bool = True,
) -> Estimate:
    """Estimate ``picture``'s depth with ``model`` (see the module docstring).

    Raises:
        InputError: unknown model, licence gate, bad model folder.
        MissingExtraError: torch/transformers not installed (``pip install 'stillcam[models]'``).
        ModelUnavailableError: weights not on disk and not downloadable.
    """
    spec, folder, revision = prepare_model(
        model, model_dir=model_dir, allow_noncommercial=allow_noncommercial, upsample=upsample
    )
    file = cache_dir() / "depth" / f"{_key(picture, spec, revision, upsample)}.npy"
    if use_cache and file.is_file() and file.with_suffix(".json").is_file():
        try:
            return _cached(file, sha256_file(file), spec.name, revision)
        except InputError as exc:  # a damaged cache entry is estimated again (and replaced)
            _LOG.warning("%s", exc)
    if upsample == "snap":
        check_snap_memory(picture.width, picture.height)  # before the model runs, not after
    rgb = np.rint(picture.pixels * 255.0).astype(np.uint8)
    if spec.family == "plugin":
        raw, fov = _run_plugin(spec, rgb)
    elif spec.family == "depth-pro":
        raw, fov = _run_depth_pro(folder, rgb)  # type: ignore[arg-type]
    elif spec.family == "moge":
        raw, fov = _run_moge(folder, rgb, picture)  # type: ignore[arg-type]
    else:
        raw, fov = _run_dpt(folder, rgb), None  # type: ignore[arg-type]
    inverse = _to_inverse(raw, spec, fov, picture)
    if upsample == "snap":
        full = snap_upsample(inverse, picture.pixels)
    else:
        full = bilinear_upsample(inverse, picture.width, picture.height)
    meta = {
        "model": spec.name,
        "repo_id": spec.repo_id,
        "revision": revision,
        "fov_degrees": fov,
        "photo_sha256": picture.sha256,
        "upsample": upsample,
        "output": spec.output,
    }
    _write_cache(file, np.ascontiguousarray(full, dtype=np.float32), meta)
    return Estimate(full, spec.output == "metric", fov, spec.name, revision, file, sha256_file(file))


def depth_map_of(estimate: Estimate, settings: DepthSettings) -> DepthMap:
    """The scene's metric depth from an estimate: metric models as they are; relative ones
    placed between ``near`` and ``far`` (defaults 1 and 20 m) like ``--depth-kind
    inverse-depth`` (docs/conventions.md)."""
    origin = {
        "model": estimate.model,
        "revision": estimate.revision,
        "cache": str(estimate.cache_file),
        "sha256": estimate.sha256,
    }
    label = f"model:{estimate.model}@{estimate.revision[:12]}"
    if estimate.metric:
        z = (1.0 / np.maximum(estimate.inverse, 1e-6)).astype(np.float32)
        return DepthMap(z, f"{label} (metric)", estimate.sha256, metric=True, origin=origin)
    raw = RawDepth(estimate.inverse, False, 0, label, estimate.sha256)
    z = depth_from_raw(raw, replace(settings, depth_kind="inverse-depth"), focal_px=1.0)
    near = settings.near if settings.near is not None else DEFAULT_NEAR_M
    far = settings.far if settings.far is not None else DEFAULT_FAR_M
    source = f"{label} (relative inverse depth placed between {near:g} and {far:g} m)"
    return DepthMap(z, source, estimate.sha256, metric=False, origin=origin)


def with_model_lens(picture: Picture, estimate: Estimate) -> Picture:
    """The photo with the model's focal length when neither EXIF nor the user gave one
    (Depth Pro and MoGe-2 estimate the field of view); unchanged otherwise."""
    if picture.focal_source != "default" or estimate.fov_degrees is None:
        return picture
    focal_px = focal_px_from_fov(estimate.fov_degrees, picture.width)
    mm = focal_px_to_mm(focal_px, picture.width, picture.height)
    return replace(picture, focal_mm=mm, focal_source=f"model:{estimate.model}")


def estimate_from_cache(record: dict[str, Any]) -> Estimate:
    """The :class:`Estimate` a recipe's depth record names, read from the cache.

    Raises:
        InputError: the cached file is missing or has changed since the render.
    """
    file = Path(record["cache"])
    if not file.is_file():
        raise InputError(
            f"cached depth {file} is missing (the cache was cleared?); render again to re-estimate"
        )
    if sha256_file(file) != record["sha256"]:
        raise InputError(f"cached depth {file} has changed since the render (SHA-256 differs)")
    return _cached(file, record["sha256"], record["model"], record["revision"])


__all__ = [
    "Estimate",
    "MissingExtraError",
    "ModelUnavailableError",
    "cache_dir",
    "depth_map_of",
    "estimate_depth",
    "estimate_from_cache",
    "prepare_model",
    "with_model_lens",
]
