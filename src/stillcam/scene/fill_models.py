"""The registry of generative fill models: what each is, where its weights come from, what its
ONNX graph takes and gives, and whether a studio may use it commercially.

A fill model colours what the photo never showed (``--fill`` behind depth edges, ``--outpaint``
past the border) instead of a classical fill. Built-in models are ONNX graphs run by ONNX
Runtime on the CPU (extra ``fill``; :mod:`.generative` does the loading, tiling, inference and
cache). Third-party packages add models through the entry-point group ``stillcam.fill_models``:
each entry point names a :class:`FillModelSpec` (or a callable returning one), either an ONNX
graph with its :class:`FillContract` (run by stillcam's own tiling code) or with an
``inpaint`` callable of the :data:`~stillcam.scene.inpaint.Inpainter` signature, e.g. in a
plug-in's ``pyproject.toml``::

    [project.entry-points."stillcam.fill_models"]
    mat = "stillcam_mat:SPEC"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from ..errors import InputError

ENTRY_POINT_GROUP = "stillcam.fill_models"


@dataclass(frozen=True)
class FillContract:
    """What an ONNX fill graph takes and gives, per window of ``window`` x ``window`` pixels.

    Attributes:
        image_input, mask_input, output: tensor names (``output`` None: the graph's only output).
        dtype: ``uint8`` or ``float32``, of the two inputs and the output alike.
        image_max: the input value of full intensity (255 for uint8 RGB, 1.0 for [0, 1]).
        mask_known, mask_hole: the mask's value at a known pixel and at one to fill.
        output_max: the output value of full intensity.
        window: the side of the square windows the graph is run on (its training size; the
            graph's fixed size where it has one).
    """

    image_input: str
    mask_input: str
    output: str | None
    dtype: Literal["uint8", "float32"]
    image_max: float
    mask_known: float
    mask_hole: float
    output_max: float
    window: int = 512


@dataclass(frozen=True)
class FillModelSpec:
    """One generative fill model.

    Attributes:
        name: registry name (``--fill NAME``, ``--outpaint NAME``).
        repo_id: Hugging Face repository id.
        revision: pinned commit of that repository.
        file: the ONNX file in that repository (and in a ``--fill-model-dir`` folder).
        licence: licence of the weights, as shown to users.
        commercial: whether the licence allows commercial use.
        size_mb: download size in MB.
        contract: the graph's inputs and output (None for an ``inpaint`` plug-in).
        sha256: the file's SHA-256 where it is pinned (checked after loading), else None:
            the hash of the file actually loaded is recorded either way.
        source: where the contract was read (shown by ``stillcam models``, for audits).
        inpaint: for plug-ins that are not ONNX graphs: ``(image (H, W, 3) float32 in [0, 1],
            known (H, W) bool) -> filled (H, W, 3) float32``; None for ONNX models.
    """

    name: str
    repo_id: str
    revision: str
    file: str
    licence: str
    commercial: bool
    size_mb: float
    contract: FillContract | None
    sha256: str | None = None
    source: str = ""
    inpaint: Callable[[Any, Any], Any] | None = None


#: MI-GAN (Sargsyan et al., ICCV 2023; Picsart AI Research, MIT licence): the published
#: "MI-GAN-512-Places2 Pipeline" ONNX export. Its contract is the one
#: ``scripts/create_onnx_pipeline.py`` of github.com/Picsart-AI-Research/MI-GAN exports (commit
#: e8919fd, "Update MI-GAN ONNX Pipeline", the script of the v2 file) and its README states:
#: inputs ``image`` (B, 3, H, W) uint8 RGB 0..255 and ``mask`` (B, 1, H, W) uint8, 255 where the
#: pixel is known and 0 where it is to be filled (binary); output ``result`` (B, 3, H, W) uint8,
#: the input with the holes filled (height, width and batch dynamic). Inside, the graph crops a
#: square of at least 512 px around the holes, resizes it to 512 x 512, runs the generator on
#: [mask - 0.5, image x mask] (image scaled to [-1, 1]), and composites its output over the
#: known pixels through the mask dilated by 1 px and blurred (so pixels next to a hole may
#: change; stillcam keeps every known pixel exactly). On 512 x 512 windows the crop and resize
#: are the identity. The file is the one the README links (huggingface.co/andraniksargsyan/
#: migan, ``migan_pipeline_v2.onnx``, 28.1 MB, uploaded in commit 1538c13 "Upload MI-GAN ONNX
#: Pipeline v2"; the older ``migan.onnx`` there is the v1 pipeline, which resizes the whole
#: image to 512 x 512).
MIGAN = FillModelSpec(
    name="migan",
    repo_id="andraniksargsyan/migan",
    revision="1538c135034b8cfe7a8472f34d09c8a5a45b17a7",
    file="migan_pipeline_v2.onnx",
    licence="MIT",
    commercial=True,
    size_mb=28.1,
    contract=FillContract(
        image_input="image",
        mask_input="mask",
        output="result",
        dtype="uint8",
        image_max=255.0,
        mask_known=255.0,
        mask_hole=0.0,
        output_max=255.0,
    ),
    source="Picsart-AI-Research/MI-GAN scripts/create_onnx_pipeline.py and README (For Developers)",
)

#: LaMa (big-lama; Suvorov et al., WACV 2022) as the ONNX export of huggingface.co/Carve/LaMa-
#: ONNX (``lama_fp32.onnx``, opset 17, fixed 512 x 512): inputs ``image`` (1, 3, 512, 512)
#: float32 RGB in [0, 1] and ``mask`` (1, 1, 512, 512) float32, 1 where the pixel is to be
#: filled and 0 where it is known; one output (1, 3, 512, 512) float32 in 0..255 (its name is
#: not documented: the graph's only output is used; the input names are those that code feeding
#: this file at this revision uses). The code is Apache-2.0, but no licence is stated for the
#: weights, which were trained on Places2, whose terms allow research and education only:
#: opt-in with --allow-noncommercial.
LAMA = FillModelSpec(
    name="lama",
    repo_id="Carve/LaMa-ONNX",
    revision="c3c0c9e468934d62e79c329e35d82dd09ff8c444",
    file="lama_fp32.onnx",
    licence="unstated (trained on Places2: research-only terms)",
    commercial=False,
    size_mb=208.0,
    contract=FillContract(
        image_input="image",
        mask_input="mask",
        output=None,
        dtype="float32",
        image_max=1.0,
        mask_known=0.0,
        mask_hole=1.0,
        output_max=255.0,
    ),
    source="Carve/LaMa-ONNX model card; advimman/lama (big-lama)",
)

BUILT_IN: tuple[FillModelSpec, ...] = (MIGAN, LAMA)
DEFAULT_FILL_MODEL = MIGAN.name


def _plugins() -> tuple[dict[str, FillModelSpec], dict[str, str]]:
    """The entry-point plug-ins installed, and each broken plug-in's error."""
    models: dict[str, FillModelSpec] = {}
    broken = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
            spec = loaded() if callable(loaded) and not isinstance(loaded, FillModelSpec) else loaded
            if not isinstance(spec, FillModelSpec) or (spec.contract is None) == (spec.inpaint is None):
                raise TypeError("it must give a FillModelSpec with either a contract or an inpaint function")
        except Exception as exc:  # a third party's error must not break the other models
            broken[point.name] = f"fill-model plug-in {point.name!r} ({point.value}) failed to load: {exc}"
            continue
        models[spec.name] = spec
    return models, broken


def registry() -> dict[str, FillModelSpec]:
    """Built-in models plus the entry-point plug-ins installed (broken plug-ins left out)."""
    return {**{spec.name: spec for spec in BUILT_IN}, **_plugins()[0]}


def find_fill_model(name: str) -> FillModelSpec | None:
    """The model called ``name``, or None when no model has that name. Built-in names are
    answered without loading the plug-ins.

    Raises:
        InputError: ``name`` is a plug-in that failed to load (its error).
    """
    for spec in BUILT_IN:
        if spec.name == name:
            return spec
    models, broken = _plugins()
    if name in broken:
        raise InputError(broken[name])
    return models.get(name)


def check_licence(spec: FillModelSpec, *, allow_noncommercial: bool) -> None:
    """Refuse a non-commercial model unless ``allow_noncommercial``.

    Raises:
        InputError: the model's licence forbids commercial use.
    """
    if not spec.commercial and not allow_noncommercial:
        raise InputError(
            f"fill model {spec.name} is licensed {spec.licence}, which does not allow commercial use; "
            f"pass --allow-noncommercial to use it anyway, or pick a commercial one such as "
            f"{DEFAULT_FILL_MODEL}"
        )


def get_fill_model(name: str, *, allow_noncommercial: bool = False) -> FillModelSpec:
    """The model called ``name``, after the licence gate.

    Raises:
        InputError: unknown name (the known ones listed), or a non-commercial model without
            ``allow_noncommercial``.
    """
    spec = find_fill_model(name)
    if spec is None:
        raise InputError(
            f"unknown fill model {name!r}; choose one of: {', '.join(registry())} (`stillcam models`)"
        )
    check_licence(spec, allow_noncommercial=allow_noncommercial)
    return spec


def fill_model_table() -> list[dict[str, str]]:
    """Rows for ``stillcam models``: name, licence, commercial, size, source."""
    return [
        {
            "name": spec.name,
            "licence": spec.licence,
            "commercial": "yes" if spec.commercial else "NO",
            "size": f"{spec.size_mb:g} MB",
            "source": f"{spec.repo_id}@{spec.revision[:10]} {spec.file}",
        }
        for spec in registry().values()
    ]
