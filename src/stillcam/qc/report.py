"""The QC report of one output: what the file is (probed), what the recipe beside it says
about the shot (upscale factor, reveal, models and licences), whether a content credential is
present and valid, and each check of a spec with its result.

A check is ``ok`` True (passed), False (failed) or None (could not be measured: no recipe,
a recipe written before the measure existed); only False fails the report.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from .._version import __version__
from ..camera.upscale import exceeds
from ..conventions import parse_fps
from ..errors import InputError, MissingExtraError, StillcamError
from ..output.recipe import Recipe, read_recipe
from ..output.targets import OutputTarget, parse_output
from .probe import Colour, Media, probe
from .spec import QcSpec

QC_FORMAT = 1
NOT_CHECKED = "not checked (extra provenance not installed)"
_FRAME_FILE = re.compile(r"^(?P<stem>.*?)(?P<digits>\d+)(?P<suffix>\.(?:png|exr))$", re.IGNORECASE)


@dataclass(frozen=True)
class Check:
    """One check: its name, what the spec asks, what was found, and the verdict (None: not
    measurable)."""

    name: str
    expected: str
    actual: str
    ok: bool | None

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "n/a"}[self.ok]


@dataclass(frozen=True)
class QcReport:
    """Everything ``stillcam qc`` found (:meth:`to_dict` is the JSON report).

    Attributes:
        subject: what was asked about, as given.
        target: the output (video or sequence).
        recipe: its recipe's path, or None when there is none.
        spec: the spec checked against.
        media: the probed file (:class:`~stillcam.qc.probe.Media`).
        shot: the recipe's record of the shot: ``upscale``, ``upscale_frame``, ``reveal``,
            ``reveal_frame``, ``collision_frame``, ``amount``, ``frames``, ``fps``, ``size``
            (None each where unknown).
        models: ``{role, name, repo, revision, licence, commercial, sha256}`` per model used.
        credential: ``{checked, present, valid, trusted, state, errors, note}``
            (:func:`credential_record`).
        checks: the checks, in order.
    """

    subject: str
    target: OutputTarget
    recipe: Path | None
    spec: QcSpec
    media: Media
    shot: dict[str, Any]
    models: list[dict[str, Any]]
    credential: dict[str, Any]
    checks: tuple[Check, ...]

    @property
    def failed(self) -> list[str]:
        """Names of the failed checks."""
        return [c.name for c in self.checks if c.ok is False]

    @property
    def passed(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "qc_format": QC_FORMAT,
            "stillcam_version": __version__,
            "subject": self.subject,
            "output": str(self.target.path),
            "recipe": None if self.recipe is None else str(self.recipe),
            "spec": self.spec.model_dump(mode="json"),
            "media": self.media.to_dict(),
            "shot": self.shot,
            "models": self.models,
            "credential": self.credential,
            "checks": [{**asdict(c), "result": c.verdict} for c in self.checks],
            "passed": self.passed,
            "failed": self.failed,
        }


def resolve(subject: str | Path) -> tuple[OutputTarget, Path | None]:
    """The output and its recipe for what ``stillcam qc`` was given: a video, a sequence's
    pattern (``shot.####.png``), one frame of a sequence (``shot.1001.png``) or a recipe.

    Raises:
        InputError: not an output stillcam writes; RecipeError: a damaged recipe.
    """
    path = Path(subject)
    if path.name.endswith(".recipe.json"):
        recipe = read_recipe(path)
        name = recipe.output.get("camera_path")
        if not isinstance(name, str) or not name or Path(name).name != name:
            raise InputError(f"{path}: the recipe names no output (output.camera_path)")
        return parse_output(path.with_name(name)), path
    match = _FRAME_FILE.match(path.name)
    if match and path.is_file():  # one frame: its sequence
        pattern = f"{match['stem']}{'#' * len(match['digits'])}{match['suffix']}"
        path = path.with_name(pattern)
    target = parse_output(path)
    recipe = target.recipe_path
    return target, recipe if recipe.is_file() else None


def shot_record(recipe: Recipe | None) -> dict[str, Any]:
    """What the recipe says about the shot (None each where it says nothing)."""
    safety = recipe.safety if recipe else {}
    output = recipe.output if recipe else {}
    width, height = output.get("width"), output.get("height")
    return {
        "upscale": safety.get("upscale"),
        "upscale_frame": safety.get("upscale_frame"),
        "reveal": safety.get("reveal"),
        "reveal_frame": safety.get("reveal_frame"),
        "collision_frame": safety.get("collision_frame"),
        "amount": safety.get("amount"),
        "frames": output.get("frames"),
        "fps": output.get("fps"),
        "size": f"{width}x{height}" if width and height else None,
    }


_MODEL_KEYS = ("role", "name", "repo", "revision", "licence", "commercial", "sha256")


def model_records(recipe: Recipe | None) -> list[dict[str, Any]]:
    """The models a render used, with their licences: the recipe's ``models`` list where it
    has one, else its depth record and fill-model records (licences of depth models from this
    stillcam's registry; the depth record's SHA-256 is of the cached estimate, so not shown)."""
    if recipe is None:
        return []
    models = getattr(recipe, "models", None)
    if isinstance(models, list) and models:
        return [{key: m.get(key) for key in _MODEL_KEYS} for m in models if isinstance(m, dict)]
    from ..depth.models import registry
    from ..scene.fill_models import find_fill_model

    records = []
    depth = recipe.inputs.get("depth") or {}
    if "model" in depth:
        spec = registry().get(depth["model"])
        records.append(
            {
                "role": "depth",
                "name": depth["model"],
                "repo": spec.repo_id if spec else None,
                "revision": depth.get("revision"),
                "licence": spec.licence if spec else None,
                "commercial": spec.commercial if spec else None,
                "sha256": None,
            }
        )
    for fill in recipe.inputs.get("fill_models") or []:
        known = find_fill_model(fill.get("name", ""))
        records.append(
            {
                "role": "fill",
                "name": fill.get("name"),
                "repo": fill.get("repo_id") or (known.repo_id if known else None),
                "revision": fill.get("revision"),
                "licence": fill.get("licence") or (known.licence if known else None),
                "commercial": fill.get("commercial", known.commercial if known else None),
                "sha256": fill.get("sha256"),
            }
        )
    return records


def credential_record(path: Path) -> dict[str, Any]:
    """Whether ``path`` carries a valid content credential, through
    ``stillcam.output.provenance.read_credential`` when that module and c2pa are installed;
    else "not checked" (nothing fails to import)."""
    unchecked = _credential(False, None, None, [], NOT_CHECKED)
    if importlib.util.find_spec("c2pa") is None:
        return unchecked
    try:
        module = importlib.import_module("stillcam.output.provenance")
    except ImportError:
        return unchecked
    reader = getattr(module, "read_credential", None)
    if reader is None:
        return unchecked
    try:
        found = reader(path)
    except MissingExtraError:
        return unchecked
    except (StillcamError, OSError, ValueError) as exc:
        return _credential(True, False, False, [str(exc)])
    errors = [str(e) for e in (found.get("errors") or [])]
    present, valid = bool(found.get("present")), bool(found.get("valid"))
    return _credential(True, present, valid, errors, trusted=found.get("trusted"), state=found.get("state"))


def _credential(
    checked: bool,
    present: bool | None,
    valid: bool | None,
    errors: list[str],
    note: str = "",
    *,
    trusted: bool | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    return {
        "checked": checked,
        "present": present,
        "valid": valid,
        "trusted": trusted,
        "state": state,
        "errors": errors,
        "note": note,
    }


def _fps_text(fps: Fraction | None) -> str:
    return "none" if fps is None else f"{fps.numerator}/{fps.denominator}"


def _same(name: str, expected: Any, actual: Any) -> Check:
    match = str(expected).lower() == str(actual).lower()
    return Check(name, str(expected), "none" if actual is None else str(actual), match)


def _recipe_checks(media: Media, shot: dict[str, Any], recipe: Path | None) -> list[Check]:
    """The output is the one its recipe describes: size, frame count and (video) frame rate."""
    if recipe is None:
        return [Check("matches recipe", "the recipe beside the output", "no recipe", None)]
    expected = f"{shot['size']}, {shot['frames']} frames"
    actual = f"{media.width}x{media.height}, {media.frames} frames"
    if media.fps is not None and shot["fps"]:
        expected += f", {_fps_text(parse_fps(str(shot['fps'])))} fps"
        actual += f", {_fps_text(media.fps)} fps"
    return [Check("matches recipe", expected, actual, expected == actual)]


def _built_in_checks(media: Media) -> list[Check]:
    checks = []
    if media.kind == "sequence":
        gaps = ", ".join(map(str, media.missing[:10])) + (" ..." if len(media.missing) > 10 else "")
        actual = f"{media.frames} frames {media.first_frame}-{media.last_frame}"
        checks.append(
            Check(
                "no missing frames", "every number", actual + (f", missing {gaps}" if gaps else ""), not gaps
            )
        )
        if media.notes:
            checks.append(Check("frames alike", "one size and format", "; ".join(media.notes), False))
    if media.frame_colour is not None:
        stream, frame = _colour_text(media.colour), _colour_text(media.frame_colour)
        checks.append(Check("frame colour tags", f"as the stream's ({stream})", frame, stream == frame))
    return checks


def _colour_text(colour: Colour) -> str:
    return f"{colour.primaries}/{colour.transfer}/{colour.matrix}/{colour.range}"


def _fps_check(media: Media, rates: list[str], shot: dict[str, Any]) -> Check:
    """The frame rate against the rates allowed (a PNG sequence's from its recipe)."""
    allowed = [parse_fps(rate) for rate in rates]
    expected = " or ".join(_fps_text(rate) for rate in allowed)
    if media.fps is not None:
        return Check("fps", expected, _fps_text(media.fps), media.fps in allowed)
    if shot["fps"]:  # PNG frames carry no rate: the recipe's
        fps = parse_fps(str(shot["fps"]))
        return Check("fps", expected, f"{_fps_text(fps)} (recipe; the files carry none)", fps in allowed)
    return Check("fps", expected, "none in the files, no recipe", False)


def _media_checks(media: Media, spec: QcSpec, shot: dict[str, Any]) -> list[Check]:
    checks = []
    if spec.width is not None or spec.height is not None:
        expected = f"{spec.width or 'any'}x{spec.height or 'any'}"
        ok = spec.width in (None, media.width) and spec.height in (None, media.height)
        checks.append(Check("size", expected, f"{media.width}x{media.height}", ok))
    for name, value in (("codec", media.codec), ("fourcc", media.fourcc), ("profile", media.profile)):
        if getattr(spec, name) is not None:
            checks.append(_same(name, getattr(spec, name), value))
    if spec.bit_depth is not None:
        checks.append(_same("bit depth", spec.bit_depth, media.bit_depth))
    if spec.chroma is not None:
        checks.append(_same("chroma", spec.chroma, media.chroma))
    if spec.alpha is not None:
        checks.append(_same("alpha", "yes" if spec.alpha else "no", "yes" if media.alpha else "no"))
    if spec.colour is not None:
        for key, value in spec.colour.model_dump().items():
            if value is not None:
                checks.append(_same(f"colour {key}", value, getattr(media.colour, key)))
    if spec.fps is not None:
        checks.append(_fps_check(media, spec.fps, shot))
    if spec.timecode:
        checks.append(
            Check("timecode", "a start timecode", media.timecode or "none", media.timecode is not None)
        )
    return checks


def _shot_checks(
    spec: QcSpec, shot: dict[str, Any], models: list[dict[str, Any]], credential: dict[str, Any]
) -> list[Check]:
    checks = []
    limit = f"<= {spec.max_upscale:g} output px per photo px"
    upscale = shot["upscale"]
    if upscale is None:
        checks.append(Check("upscale", limit, "not recorded (no recipe, or an older one)", None))
    else:
        actual = f"{upscale:.4f} at frame {shot['upscale_frame']}"
        checks.append(Check("upscale", limit, actual, not exceeds(float(upscale), spec.max_upscale)))
    if spec.max_reveal is not None:
        expected = f"<= {spec.max_reveal:g} of a frame"
        reveal = shot["reveal"]
        if reveal is None:
            checks.append(Check("reveal", expected, "not recorded", None))
        else:
            actual = f"{reveal:.4f} at frame {shot['reveal_frame']}"
            checks.append(Check("reveal", expected, actual, float(reveal) <= spec.max_reveal))
    if spec.commercial_only:
        bad = [m["name"] for m in models if m.get("commercial") is not True]
        actual = "all commercial" if not bad else "not (known to be) commercial: " + ", ".join(map(str, bad))
        checks.append(Check("commercial models", "every model allows commercial use", actual, not bad))
    if spec.credential:
        if not credential["checked"]:
            actual = credential["note"]
        else:
            actual = "valid" if credential["valid"] else ("invalid" if credential["present"] else "none")
        checks.append(Check("credential", "a valid content credential", actual, bool(credential["valid"])))
    return checks


def qc(subject: str | Path, spec: QcSpec) -> QcReport:
    """Probe ``subject`` (:func:`resolve`), read its recipe, and check it against ``spec``.

    Raises:
        InputError: not an output, missing, not decodable; RecipeError: a damaged recipe.
    """
    target, recipe_path = resolve(subject)
    media = probe(target)
    recipe = read_recipe(recipe_path) if recipe_path is not None else None
    shot, models = shot_record(recipe), model_records(recipe)
    first = target.path if target.kind == "video" else target.frame_path(media.first_frame or 0)
    credential = credential_record(first)
    checks = [
        *_media_checks(media, spec, shot),
        *_shot_checks(spec, shot, models, credential),
        *_recipe_checks(media, shot, recipe_path),
        *_built_in_checks(media),
    ]
    return QcReport(str(subject), target, recipe_path, spec, media, shot, models, credential, tuple(checks))


def report_path(target: OutputTarget) -> Path:
    """Where the JSON report goes by default: ``shot.mov.qc.json`` beside ``shot.mov``,
    ``shot.png.qc.json`` beside ``shot.####.png``."""
    if target.kind == "video":
        return target.path.with_name(target.path.name + ".qc.json")
    return target.path.with_name(f"{target.stem}{target.path.suffix}.qc.json")
