"""Which fills a scene runs, and what its fill models need before any file is decoded.

``--fill`` and ``--outpaint`` name a classical fill (:data:`~.inpaint.INPAINTERS`) or a fill
model (:mod:`.fill_models`, run by :mod:`.generative`). For the models a scene uses, this
module checks the licence (:func:`check_fill_licences`, from the options), makes every check
before the photo is read (:func:`prepare_fill_models`: name, licence, onnxruntime installed,
weights found) and gives the recipe's record of the weights (:func:`fill_model_records`).
"""

from __future__ import annotations

from typing import Any, Protocol

from .fill_models import check_licence, get_fill_model
from .generative import fill_weights, is_pinned, pinned_fill_models, require_onnxruntime
from .inpaint import INPAINTERS


class FillSettings(Protocol):
    """The scene options read here (:class:`~stillcam.scene.mesh.SceneSettings`)."""

    fill: str
    outpaint: str
    fill_model_dir: str | None


def used_fill_models(settings: FillSettings) -> dict[str, list[str]]:
    """The fill models a scene with ``settings`` runs: name -> the options naming it
    (``fill``, ``outpaint``); empty with ``--fill none`` (no ring, no layer) or classical
    fills. (``fill`` is listed whenever it names a model, even for a shot whose cameras need
    no background layer.)"""
    used: dict[str, list[str]] = {}
    if settings.fill == "none":
        return used
    for option in ("fill", "outpaint"):
        name = getattr(settings, option)
        if name not in INPAINTERS and name != "none":  # a model (SceneSettings checked the name)
            used.setdefault(name, []).append(option)
    return used


def check_fill_licences(settings: FillSettings, *, allow_noncommercial: bool) -> None:
    """Refuse a non-commercial fill model without ``allow_noncommercial`` (the one
    ``--allow-noncommercial`` of depth and fill models).

    Raises:
        InputError: a model's licence forbids commercial use (or an unknown model).
    """
    for name in used_fill_models(settings):
        check_licence(get_fill_model(name, allow_noncommercial=True), allow_noncommercial=allow_noncommercial)


def prepare_fill_models(settings: FillSettings, *, allow_noncommercial: bool) -> None:
    """Every check before a fill model runs, cheap and in order: name and licence, the
    onnxruntime install, the weights on disk (downloaded when the hub is reachable). For a
    model pinned by a re-render (:func:`~.generative.pinned_fill_models`) only the name and
    licence: the cache serves its fills.

    Raises:
        InputError, MissingExtraError, ModelUnavailableError.
    """
    check_fill_licences(settings, allow_noncommercial=allow_noncommercial)
    for name in used_fill_models(settings):
        if is_pinned(name):
            continue
        weights = fill_weights(name, settings.fill_model_dir)
        if weights.spec.inpaint is None:
            require_onnxruntime()  # the install hint before the photo is read


def fill_model_records(settings: FillSettings) -> dict[str, Any]:
    """The recipe's input record of the fill models a scene uses: ``{"fill_models": [{name,
    repo_id, file, revision, licence, commercial, sha256, used_for}]}``, or ``{}`` when it uses
    none. Call after :func:`prepare_fill_models` (the weights are found, not downloaded)."""
    records = []
    for name, options in used_fill_models(settings).items():
        record = fill_weights(name, settings.fill_model_dir, download=False).record()
        records.append({**record, "used_for": options})
    return {"fill_models": records} if records else {}


__all__ = [
    "FillSettings",
    "check_fill_licences",
    "fill_model_records",
    "pinned_fill_models",
    "prepare_fill_models",
    "used_fill_models",
]
