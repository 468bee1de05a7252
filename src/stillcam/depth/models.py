"""The registry of depth models: what each is, where it comes from, and whether a studio may
use it commercially.

Built-in models load through Hugging Face ``transformers``, MoGe-2 through ONNX Runtime
(:mod:`.moge`; both extra ``models``). Third-party
packages add models through the entry-point group ``stillcam.depth_models``: each entry point
names a :class:`ModelSpec` (or a callable returning one) whose ``estimate`` callable does the
work, e.g. in a plug-in's ``pyproject.toml``::

    [project.entry-points."stillcam.depth_models"]
    moge = "stillcam_moge:SPEC"

Output kinds (docs/conventions.md, "Depth from a model"):

* ``relative-inverse`` - inverse depth up to an unknown scale and shift (Depth Anything V2):
  normalised to [0, 1] and placed between ``--near`` and ``--far`` like ``--depth-kind
  inverse-depth`` (1 / z = 1 / far + v (1 / near - 1 / far)); the scene's metres are a guess.
* ``metric`` - depth in metres (ZoeDepth, Depth Pro, MoGe-2), kept as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from ..errors import InputError

ENTRY_POINT_GROUP = "stillcam.depth_models"

#: The image-processor settings of the Depth-Anything-V2-*-hf repositories'
#: ``preprocessor_config.json`` (to build faithful local stand-ins for tests and benchmarks).
DEPTH_ANYTHING_PROCESSOR: dict[str, Any] = {
    "size": {"height": 518, "width": 518},
    "keep_aspect_ratio": True,
    "ensure_multiple_of": 14,
    "do_pad": False,
    "resample": 3,
    "image_mean": [0.485, 0.456, 0.406],
    "image_std": [0.229, 0.224, 0.225],
}
DEFAULT_MODEL = "depth-anything-v2-small"


@dataclass(frozen=True)
class ModelSpec:
    """One depth model.

    Attributes:
        name: registry name (``--depth-model``).
        repo_id: Hugging Face repository id.
        revision: pinned commit of that repository, or None where not pinned yet (the commit
            actually loaded is then read from the local snapshot and recorded).
        licence: SPDX-style licence id of the weights.
        commercial: whether the licence allows commercial use.
        output: ``relative-inverse`` or ``metric``.
        estimates_focal: whether the model estimates the field of view.
        family: how it is run: ``dpt`` (transformers image processor + model: Depth
            Anything, ZoeDepth), ``depth-pro`` (torch-only preprocessing), ``moge`` (an ONNX
            graph, :mod:`.moge`) or ``plugin``.
        params_m: parameters in millions.
        speed: rough CPU class: ``fast`` (< 5 s for 1080p on 2 cores), ``medium``, ``slow``.
        estimate: for plug-ins, ``(rgb uint8 (H, W, 3)) -> (depth-like (h, w) float32,
            horizontal fov in degrees or None)``; None for built-ins.
    """

    name: str
    repo_id: str
    revision: str | None
    licence: str
    commercial: bool
    output: Literal["relative-inverse", "metric"]
    estimates_focal: bool
    family: Literal["dpt", "depth-pro", "moge", "plugin"]
    params_m: float
    speed: Literal["fast", "medium", "slow"]
    estimate: Callable[[Any], tuple[Any, float | None]] | None = None


BUILT_IN: tuple[ModelSpec, ...] = (
    ModelSpec(
        "depth-anything-v2-small",
        "depth-anything/Depth-Anything-V2-Small-hf",
        "5426e4f0f36572d16453bbda7a8389317b1bef99",
        "Apache-2.0",
        True,
        "relative-inverse",
        False,
        "dpt",
        24.8,
        "fast",
    ),
    ModelSpec(
        "depth-anything-v2-base",
        "depth-anything/Depth-Anything-V2-Base-hf",
        None,
        "CC-BY-NC-4.0",
        False,
        "relative-inverse",
        False,
        "dpt",
        97.5,
        "medium",
    ),
    ModelSpec(
        "depth-anything-v2-large",
        "depth-anything/Depth-Anything-V2-Large-hf",
        None,
        "CC-BY-NC-4.0",
        False,
        "relative-inverse",
        False,
        "dpt",
        335.3,
        "slow",
    ),
    ModelSpec(
        "zoedepth-nk",
        "Intel/zoedepth-nyu-kitti",
        "f364d4c7936e91f465abba182208dd68142bf0ca",
        "MIT",
        True,
        "metric",
        False,
        "dpt",
        345.0,
        "medium",
    ),
    ModelSpec(
        "depth-pro",
        "apple/DepthPro-hf",
        None,
        "apple-amlr",
        False,
        "metric",
        True,
        "depth-pro",
        952.0,
        "slow",
    ),
    # MoGe-2 (github.com/microsoft/MoGe, code MIT; weights MIT like the authors' torch
    # repositories Ruicheng/moge-2-vit*-normal): the authors' ONNX exports, run by ONNX
    # Runtime (why: stillcam/depth/moge.py). Metric point map + field of view.
    ModelSpec(
        "moge-2-vits",
        "Ruicheng/moge-2-vits-normal-onnx",
        None,
        "MIT",
        True,
        "metric",
        True,
        "moge",
        35.0,
        "medium",
    ),
    ModelSpec(
        "moge-2-vitb",
        "Ruicheng/moge-2-vitb-normal-onnx",
        None,
        "MIT",
        True,
        "metric",
        True,
        "moge",
        104.0,
        "slow",
    ),
    ModelSpec(
        "moge-2-vitl",
        "Ruicheng/moge-2-vitl-normal-onnx",
        None,
        "MIT",
        True,
        "metric",
        True,
        "moge",
        331.0,
        "slow",
    ),
)

#: Why a model is or is not the default (``stillcam models``' ``note`` column).
NOTES = {
    DEFAULT_MODEL: "default: the fastest; relative depth",
    "moge-2-vits": "metric depth + lens; NOT default: 2-5x the default's CPU time (docs/benchmarks.md)",
}


def _load() -> tuple[dict[str, ModelSpec], dict[str, str]]:
    """Built-in models plus the plug-ins installed, and each broken plug-in's error."""
    models = {spec.name: spec for spec in BUILT_IN}
    broken = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
            spec = loaded() if callable(loaded) and not isinstance(loaded, ModelSpec) else loaded
            if not isinstance(spec, ModelSpec) or spec.estimate is None:
                raise TypeError("it must give a ModelSpec with an estimate function")
        except Exception as exc:  # a third party's error must not break the other models
            reason = " ".join(str(exc).split())[:200]
            broken[point.name] = (
                f"depth-model plug-in {point.name!r} ({point.value}) failed to load: {reason}"
            )
            continue
        models[spec.name] = spec
    return models, broken


def registry() -> dict[str, ModelSpec]:
    """Built-in models plus the entry-point plug-ins installed (broken plug-ins left out;
    asking for one by name gives its error)."""
    return _load()[0]


def get_model(name: str, *, allow_noncommercial: bool = False) -> ModelSpec:
    """The model called ``name``, after the licence gate.

    Raises:
        InputError: unknown name (the known ones listed), or a non-commercial model without
            ``allow_noncommercial``.
    """
    models, broken = _load()
    if name in broken:
        raise InputError(broken[name])
    if name not in models:
        raise InputError(
            f"unknown depth model {name!r}; choose one of: {', '.join(models)} (`stillcam models`)"
        )
    spec = models[name]
    if not spec.commercial and not allow_noncommercial:
        raise InputError(
            f"depth model {name} is licensed {spec.licence}, which does not allow commercial use; "
            f"pass --allow-noncommercial to use it anyway, or pick a commercial one such as {DEFAULT_MODEL}"
        )
    return spec


def model_table() -> list[dict[str, str]]:
    """Rows for ``stillcam models``: name, licence, commercial, output, focal, size, speed,
    source, note (:data:`NOTES`)."""
    return [
        {
            "name": spec.name,
            "licence": spec.licence,
            "commercial": "yes" if spec.commercial else "NO",
            "output": spec.output,
            "focal": "estimates" if spec.estimates_focal else "-",
            "params": f"{spec.params_m:g} M",
            "speed": spec.speed,
            "source": f"{spec.repo_id}@{(spec.revision or 'main')[:10]}",
            "note": NOTES.get(spec.name, ""),
        }
        for spec in registry().values()
    ]
