"""Generative fills: a registered fill model (:mod:`.fill_models`) run by ONNX Runtime on the
CPU, behind the :data:`~stillcam.scene.inpaint.Inpainter` signature, so ``--fill migan`` and
``--outpaint migan`` take the place of a classical fill.

* Weights: ``--fill-model-dir DIR`` (a folder holding the model's file, e.g.
  ``migan_pipeline_v2.onnx``; revision ``dir:`` + the start of its SHA-256), else the Hugging
  Face cache's copy of the pinned revision (``stillcam models pull migan`` on a connected
  machine); with the hub reachable (``HF_HUB_OFFLINE`` unset) a missing file is downloaded,
  otherwise one :class:`ModelUnavailableError` says what to do; :mod:`.fills` makes every
  check (name, licence, extra, weights) before a file is decoded.
* Inference: square windows of the model's size (512 px) with :data:`OVERLAP` px of overlap,
  feathered into each other; only windows that hold pixels to fill are run. Windows with too
  little known context wait for a later pass, when the pixels their neighbours filled count as
  known (so a wide ring is filled outward from the photo). onnxruntime is imported lazily
  (extra ``fill``), with fixed thread counts (:mod:`stillcam.io.onnx`) so a result does not
  depend on the machine's core count.
* Repeatability: every result is cached on disk (``$STILLCAM_CACHE_DIR/fill``) under the key
  (image bytes, known mask, model, revision, file SHA-256), as 16-bit values (the scene's
  texture precision): the same call returns the same bytes, and a re-render
  (:func:`pinned_fill_models` with the recipe's :func:`~.fills.fill_model_records`) reads the
  cache without the weights or onnxruntime.
* Known pixels are returned unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..depth.estimate import cache_dir
from ..errors import InputError, MissingExtraError, ModelUnavailableError, RecipeError
from ..io.files import write_bytes_atomic
from ..io.hashing import sha256_array, sha256_file_cached
from ..io.hub import hub_cache, hub_path
from ..io.onnx import cpu_session, onnxruntime_module
from .fill_models import FillContract, FillModelSpec, get_fill_model

#: Pixels by which neighbouring windows overlap; their outputs are blended across it.
OVERLAP = 64
#: A window is run once at least this fraction of its pixels is known (or filled by an earlier
#: pass); when none has that much, the windows with any known pixel are run.
MIN_KNOWN = 0.1
#: Model fills run at most at this size (long side, pixels) and are upsampled into the holes
#: (classical fills: :data:`~stillcam.scene.inpaint.WORKING_SIZE`): 13 windows for a UHD
#: photo's ring instead of 56 at full size (docs/benchmarks.md, "Generative fills").
FILL_WORKING_SIZE = 2048
#: Bumped when the tiling changes what a fill returns (part of the cache key).
_ALGORITHM = 1
_FEATHER_FLOOR = 1e-3


@dataclass(frozen=True)
class FillWeights:
    """A fill model's weights as found: what the recipe records, and where the file is.

    Attributes:
        spec: the registry entry.
        revision: the pinned commit, or ``dir:`` + hash for a ``--fill-model-dir`` file.
        sha256: the weights file's SHA-256 (a plug-in's own version for ``inpaint`` plug-ins).
        path: the file, or None when it is not on this machine (a re-render served from the
            cache) or for ``inpaint`` plug-ins.
    """

    spec: FillModelSpec
    revision: str
    sha256: str
    path: Path | None

    def record(self) -> dict[str, Any]:
        """What the recipe keeps: enough to name, audit and re-find the exact weights."""
        spec = self.spec
        return {
            "name": spec.name,
            "repo_id": spec.repo_id,
            "file": spec.file,
            "revision": self.revision,
            "licence": spec.licence,
            "commercial": spec.commercial,
            "sha256": self.sha256,
        }


#: The --fill-model-dir of the scene being built (:func:`fill_models_from`).
_MODEL_DIR: ContextVar[str | None] = ContextVar("stillcam_fill_model_dir", default=None)
#: name -> the recipe's record, while a re-render runs (:func:`pinned_fill_models`).
_PINNED: ContextVar[dict[str, dict[str, Any]] | None] = ContextVar("stillcam_pinned_fills", default=None)
_SESSIONS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def _pins() -> dict[str, dict[str, Any]]:
    return _PINNED.get() or {}


def is_pinned(name: str) -> bool:
    """Whether fill model ``name`` is pinned to a recipe's record (:func:`pinned_fill_models`)."""
    return name in _pins()


def _sha256(path: Path) -> str:
    """The file's SHA-256, remembered per (path, size, mtime)."""
    return sha256_file_cached(path)


def _offline_message(spec: FillModelSpec, reason: str) -> str:
    return (
        f"fill model {spec.name} ({spec.repo_id}@{spec.revision[:10]} {spec.file}) is not on this machine "
        f"({reason}); on a connected machine run `stillcam models pull {spec.name}` and copy the Hugging "
        f"Face cache ({hub_cache()}) here, or pass --fill-model-dir DIR (a folder holding {spec.file}), "
        "or use a classical fill (--fill telea --outpaint propagate: no model needed)"
    )


def _hub_file(spec: FillModelSpec, *, download: bool | None) -> Path:
    """The pinned revision's file in the Hugging Face cache, downloaded when allowed."""
    return hub_path(
        spec.repo_id,
        spec.revision,
        filename=spec.file,
        download=download,
        extra="fill",
        advice=lambda reason: _offline_message(spec, reason),
    )


def _dir_file(spec: FillModelSpec, model_dir: str | Path) -> Path:
    file = Path(model_dir) / spec.file
    if not file.is_file():
        raise InputError(
            f"--fill-model-dir {model_dir}: no {spec.file} there (the file of fill model {spec.name})"
        )
    return file


def fill_weights(
    name: str, model_dir: str | Path | None = None, *, download: bool | None = None
) -> FillWeights:
    """The weights of fill model ``name``: from ``model_dir`` if given, else the Hugging Face
    cache (downloaded when ``download``, default: unless ``HF_HUB_OFFLINE`` is set). Inside
    :func:`pinned_fill_models` the recipe's revision and SHA-256 are used and the file may be
    missing (``path`` None), or is ignored if it is not the recorded one.

    Raises:
        InputError: unknown model, or no such file in ``model_dir``.
        ModelUnavailableError: not on disk and not downloadable.
    """
    spec = get_fill_model(name, allow_noncommercial=True)  # the licence is gated by the options
    pin = _pins().get(name)
    if spec.inpaint is not None:
        return FillWeights(spec, spec.revision, spec.sha256 or spec.revision, None)
    if pin is not None:
        try:
            path: Path | None = _dir_file(spec, model_dir) if model_dir else _hub_file(spec, download=False)
        except (InputError, ModelUnavailableError, MissingExtraError):
            path = None
        if path is not None and _sha256(path) != pin["sha256"]:
            path = None  # other weights than the render's: only the cache can reproduce it
        return FillWeights(spec, pin["revision"], pin["sha256"], path)
    if model_dir:
        path = _dir_file(spec, model_dir)
        sha = _sha256(path)
        return FillWeights(spec, "dir:" + sha[:16], sha, path)
    path = _hub_file(spec, download=download)
    sha = _sha256(path)
    if spec.sha256 is not None and sha != spec.sha256:
        raise ModelUnavailableError(
            _offline_message(
                spec, f"the cached file's SHA-256 is {sha[:12]}, not the pinned {spec.sha256[:12]}"
            )
        )
    return FillWeights(spec, spec.revision, sha, path)


def require_onnxruntime() -> Any:
    """The onnxruntime module, or the install hint (extra ``fill``)."""
    return onnxruntime_module("fill")


@contextmanager
def fill_models_from(model_dir: str | Path | None) -> Iterator[None]:
    """While the block runs, fill models without a folder of their own
    (:func:`model_fill` without ``model_dir``: the fills ``inpaint`` and ``outpaint`` look up
    by name) load their weights from ``model_dir`` (``--fill-model-dir``; None: the Hugging
    Face cache). :func:`~stillcam.scene.plan.scene_for` builds every scene inside it."""
    token = _MODEL_DIR.set(None if model_dir is None else str(model_dir))
    try:
        yield
    finally:
        _MODEL_DIR.reset(token)


@contextmanager
def pinned_fill_models(records: Iterable[dict[str, Any]] | None) -> Iterator[None]:
    """While the block runs, fill models named in ``records`` (a recipe's ``fill_models``) use
    the recorded revision and SHA-256 and may be missing from this machine: their results come
    from the cache."""
    pins = {**_pins(), **{record["name"]: record for record in records or ()}}
    token = _PINNED.set(pins)
    try:
        yield
    finally:
        _PINNED.reset(token)


def contract_of(name: str) -> FillContract:
    """The ONNX contract of fill model ``name``.

    Raises:
        InputError: unknown model, or a plug-in without a contract.
    """
    spec = get_fill_model(name, allow_noncommercial=True)
    if spec.contract is None:
        raise InputError(f"fill model {name} is a plug-in function, not an ONNX graph")
    return spec.contract


_ORT_TYPES = {"uint8": "tensor(uint8)", "float32": "tensor(float)"}


def _session(weights: FillWeights) -> Any:
    """The ONNX Runtime session of ``weights`` (CPU, fixed threads; two kept loaded), after
    checking the graph has the contract's inputs and output."""
    assert weights.path is not None and weights.spec.contract is not None
    key = (str(weights.path), weights.sha256)
    with _LOCK:
        if key in _SESSIONS:
            return _SESSIONS[key]
    require_onnxruntime()  # the install hint, outside the try below
    try:
        session = cpu_session(weights.path, "fill")
    except Exception as exc:  # a corrupt or foreign file
        raise InputError(
            f"fill model {weights.spec.name}: {weights.path} is not a loadable ONNX graph ({exc})"
        ) from None
    contract = weights.spec.contract
    inputs = {i.name: i.type for i in session.get_inputs()}
    outputs = {o.name: o.type for o in session.get_outputs()}
    wanted = _ORT_TYPES[contract.dtype]
    output = contract.output or (next(iter(outputs)) if len(outputs) == 1 else "")
    if (
        inputs.get(contract.image_input) != wanted
        or inputs.get(contract.mask_input) != wanted
        or outputs.get(output) != wanted
    ):
        raise InputError(
            f"fill model {weights.spec.name}: {weights.path} has inputs {inputs} and outputs {outputs}; "
            f"expected {contract.image_input} and {contract.mask_input} in, {contract.output or 'one'} "
            f"out, all {wanted}"
        )
    with _LOCK:
        while len(_SESSIONS) >= 2:
            _SESSIONS.pop(next(iter(_SESSIONS)))
        _SESSIONS[key] = session
    return session


def window_starts(size: int, window: int, overlap: int = OVERLAP) -> list[int]:
    """Start offsets of windows of ``window`` px covering ``size`` px (>= window), each
    overlapping the next by at least ``overlap`` px, the last flush with the end.

    >>> window_starts(512, 512), window_starts(1000, 512)
    ([0], [0, 448, 488])
    """
    last = size - window
    starts = list(range(0, last, window - overlap))
    return [*starts, last]


def windows_to_fill(unknown: np.ndarray, window: int, overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """(top, left) of the windows, row by row, that hold pixels of ``unknown`` (H, W) bool, on
    the image padded to at least ``window`` px each way."""
    h, w = max(unknown.shape[0], window), max(unknown.shape[1], window)
    padded = np.zeros((h, w), bool)
    padded[: unknown.shape[0], : unknown.shape[1]] = unknown
    return [
        (y, x)
        for y in window_starts(h, window, overlap)
        for x in window_starts(w, window, overlap)
        if padded[y : y + window, x : x + window].any()
    ]


def _feather(window: int, overlap: int) -> np.ndarray:
    """(window, window) float32 blending weight: 1 inside, falling linearly to (nearly) 0
    across the ``overlap`` px next to each side."""
    i = np.arange(window, dtype=np.float64) + 0.5
    ramp = np.clip(np.minimum(i, window - i) / max(overlap, 1), _FEATHER_FLOOR, 1.0)
    return np.outer(ramp, ramp).astype(np.float32)


def _run_window(session: Any, contract: FillContract, tile: np.ndarray, known: np.ndarray) -> np.ndarray:
    """One window through the graph: (win, win, 3) float32 in [0, 1] (0 where unknown) and its
    known mask -> (win, win, 3) float32 in [0, 1]."""
    dtype = np.uint8 if contract.dtype == "uint8" else np.float32
    image = np.clip(tile, 0.0, 1.0) * np.float32(contract.image_max)
    if dtype is np.uint8:
        image = np.rint(image)
    image = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=dtype)
    mask = np.where(known, contract.mask_known, contract.mask_hole).astype(dtype)[None, None]
    names = [contract.output] if contract.output else None  # None: the graph's only output
    out = session.run(names, {contract.image_input: image, contract.mask_input: mask})[0]
    result = np.asarray(out[0], np.float32).transpose(1, 2, 0) / np.float32(contract.output_max)
    return np.clip(result, 0.0, 1.0)


def tiled_fill(session: Any, contract: FillContract, image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill ``~known`` of ``image`` window by window (see the module docstring).

    Args:
        image: (H, W, 3) float32 in [0, 1], 0 where unknown.
        known: (H, W) bool, some True.

    Returns:
        (H, W, 3) float32: the known pixels as given, the others filled.
    """
    win, (h, w) = contract.window, known.shape
    size = (max(h, win), max(w, win))  # smaller images are padded with pixels to fill
    canvas = np.zeros((*size, 3), np.float32)
    canvas[:h, :w] = image
    known_now = np.zeros(size, bool)
    known_now[:h, :w] = known
    target = np.zeros(size, bool)
    target[:h, :w] = ~known
    total = np.zeros((*size, 3), np.float32)
    weight = np.zeros(size, np.float32)
    feather = _feather(win, OVERLAP)
    pending = windows_to_fill(target, win)
    while pending:
        context = {p: known_now[p[0] : p[0] + win, p[1] : p[1] + win].mean() for p in pending}
        ready = [p for p in pending if context[p] >= MIN_KNOWN] or [p for p in pending if context[p] > 0]
        if not ready:  # nothing known anywhere (callers return such images unchanged)
            break
        for y, x in ready:
            cell = (slice(y, y + win), slice(x, x + win))
            hole = ~known_now[cell]
            out = _run_window(session, contract, canvas[cell], known_now[cell])
            total[cell][hole] += out[hole] * feather[hole][:, None]
            weight[cell][hole] += feather[hole]
        new = ~known_now & (weight > 0)
        canvas[new] = total[new] / weight[new][:, None]
        known_now |= new
        total[new], weight[new] = 0.0, 0.0
        done = set(ready)
        pending = [
            (y, x)
            for y, x in pending
            if (y, x) not in done
            and (target[y : y + win, x : x + win] & ~known_now[y : y + win, x : x + win]).any()
        ]
    return canvas[:h, :w]


def _key(zeroed: np.ndarray, known: np.ndarray, weights: FillWeights) -> str:
    text = json.dumps(
        [
            sha256_array(zeroed),
            sha256_array(known),
            weights.spec.name,
            weights.revision,
            weights.sha256,
            [weights.spec.contract.window if weights.spec.contract else 0, OVERLAP, MIN_KNOWN, _ALGORITHM],
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _write_cache(file: Path, values: np.ndarray, meta: dict[str, Any]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    array = io.BytesIO()
    np.save(array, values)
    write_bytes_atomic(file.with_suffix(".json"), json.dumps(meta, indent=1).encode(), "fill cache")
    write_bytes_atomic(file, array.getvalue(), "fill cache")


class ModelFill:
    """The :data:`~stillcam.scene.inpaint.Inpainter` of fill model ``name``: weights from
    ``model_dir``, else from the folder of :func:`fill_models_from`, else the Hugging Face
    cache, found when it is called.

    Attributes:
        working_size: the long side (pixels) ``inpaint`` and ``outpaint`` run it at.
    """

    working_size = FILL_WORKING_SIZE

    def __init__(self, name: str, model_dir: str | Path | None = None) -> None:
        self.name, self.model_dir = name, model_dir

    def __repr__(self) -> str:
        return f"ModelFill({self.name!r}, model_dir={self.model_dir!r})"

    def __call__(self, image: np.ndarray, known: np.ndarray) -> np.ndarray:
        if known.all() or not known.any():
            return image.copy()
        model_dir = self.model_dir if self.model_dir is not None else _MODEL_DIR.get()
        weights = fill_weights(self.name, model_dir)
        zeroed = np.where(known[..., None], image, 0.0).astype(np.float32)
        file = cache_dir() / "fill" / f"{_key(zeroed, known, weights)}.npy"
        unknown = int((~known).sum())
        values = np.load(file) if file.is_file() else None
        if values is None or values.shape != (unknown, 3) or values.dtype != np.uint16:
            values = self._run(weights, zeroed, known, file)
        out = np.array(image, np.float32)
        out[~known] = values.astype(np.float32) * np.float32(1.0 / 65535.0)
        return out

    def _run(self, weights: FillWeights, zeroed: np.ndarray, known: np.ndarray, file: Path) -> np.ndarray:
        spec = weights.spec
        if spec.inpaint is not None:
            filled = np.asarray(spec.inpaint(zeroed, known.copy()), np.float32)
        elif weights.path is None:
            raise RecipeError(
                f"the render's fill by {spec.name} (weights SHA-256 {weights.sha256[:12]}) is not in the "
                f"fill cache ({file.parent}; cleared?) and those weights are not on this machine; restore "
                f"them (--fill-model-dir or `stillcam models pull {spec.name}`) or render again"
            )
        else:
            filled = tiled_fill(_session(weights), spec.contract, zeroed, known)  # type: ignore[arg-type]
        values = np.rint(np.clip(filled[~known], 0.0, 1.0) * 65535.0).astype(np.uint16)
        meta = {
            "model": spec.name,
            "revision": weights.revision,
            "sha256": weights.sha256,
            "shape": list(known.shape),
        }
        _write_cache(file, values, meta)
        return values


def model_fill(name: str, model_dir: str | Path | None = None) -> ModelFill:
    """The inpainter of fill model ``name`` (nothing is loaded until it is called).

    Raises:
        InputError: unknown model.
    """
    get_fill_model(name, allow_noncommercial=True)
    return ModelFill(name, model_dir)


__all__ = [
    "FILL_WORKING_SIZE",
    "FillWeights",
    "ModelFill",
    "contract_of",
    "fill_models_from",
    "fill_weights",
    "is_pinned",
    "model_fill",
    "pinned_fill_models",
    "require_onnxruntime",
    "tiled_fill",
    "windows_to_fill",
]
