"""Provenance of an output: the models that touched it, the ``--commercial-only`` rule, and
C2PA content credentials (``--sign KEY CERT``).

* **Models** (:func:`model_records`): the recipe's ``models`` list, one entry per model that
  touched the output: ``{role, name, repo, revision, licence, commercial, sha256, files}``
  (``role`` is ``depth`` or ``fill``; later kinds add their own roles). ``sha256`` is the
  SHA-256 of the weights file that was loaded (the ONNX file of a fill model, the
  ``.safetensors``/``.bin``/``.onnx`` file of a depth model's folder), or, when a model has
  several weights files, the SHA-256 of their ``sha256sum`` listing (``"<hex>  <file>\\n"``
  per file, sorted by name; ``files`` lists each); None where no weights file is known (a
  plug-in, or weights no longer on disk).
* **--commercial-only** (:class:`ProvenanceSettings`, checked with the options by
  :func:`check_commercial_only`; a re-render's recipe by :func:`check_recipe_models`):
  every model a render names must allow commercial use; ``--allow-noncommercial`` with it is
  refused (two flags that contradict each other).
* **Content credentials** (:func:`load_signing`, :class:`SignedSink`, :func:`read_credential`):
  a C2PA manifest signed with the user's key and certificate chain (extra ``provenance``,
  ``c2pa-python``), embedded in MP4/MOV videos and in each PNG frame of a sequence (MKV and
  EXR carry none: :func:`check_signable` refuses them before any work). The partial file is
  signed when the sink finishes, before anything is published under its final name.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..bounds import check_fields
from ..errors import InputError, OutputError, missing_extra
from ..io.hashing import sha256_file_cached
from ..io.limits import one_line
from ..io.structured import read_bytes_bounded
from .recipe import Recipe
from .targets import OutputTarget
from .wrapping import WrappedSink
from .writers import FrameSink

#: The output suffixes that carry a C2PA manifest, and their MIME types.
CREDENTIAL_FORMATS = {".mp4": "video/mp4", ".mov": "video/quicktime", ".png": "image/png"}
#: Photo suffixes c2pa reads as an ingredient (its own manifest, if any, is kept).
_PHOTO_FORMATS = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
}
#: Suffixes of model weights files (hashed for the models list).
WEIGHTS_SUFFIXES = (".safetensors", ".bin", ".onnx", ".pt", ".pth", ".ckpt", ".gguf", ".msgpack", ".h5")
#: IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/).
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
#: The label of stillcam's own assertion in a manifest.
ASSERTION_LABEL = "stillcam.provenance"
#: The failure code c2pa gives a signature whose certificate chain is not in its trust list.
UNTRUSTED = "signingCredential.untrusted"
_MAX_PEM_BYTES = 1 << 20


@dataclass(frozen=True)
class ProvenanceSettings:
    """Licences and provenance. Field docs become ``--help`` text."""

    commercial_only: bool = field(
        default=False,
        metadata={
            "help": "refuse, before any file is decoded, every depth or fill model whose licence does "
            "not allow commercial use (the --depth-model even with --depth); cannot be combined with "
            "--allow-noncommercial (docs/delivery.md, Provenance)"
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)


# ----------------------------------------------------------------------------------------
# --commercial-only


def _depth_spec(name: str) -> Any:
    from ..depth.models import get_model

    return get_model(name, allow_noncommercial=True)  # unknown names: InputError with the known ones


def check_commercial_only(
    settings: ProvenanceSettings, *, depth_model: str, fill_models: Iterable[str], allow_noncommercial: bool
) -> None:
    """With ``--commercial-only``: refuse ``--allow-noncommercial``, a non-commercial
    ``--depth-model`` (even with a ``--depth`` file: the options name it) and non-commercial
    fill models. Called when the options are made (:class:`~stillcam.options.RenderOptions`).

    Raises:
        InputError: one line naming the model, its licence and what to do.
    """
    if not settings.commercial_only:
        return
    if allow_noncommercial:
        raise InputError(
            "--commercial-only and --allow-noncommercial contradict each other; drop --allow-noncommercial "
            "(commercial-only refuses every model whose licence forbids commercial use)"
        )
    from ..depth.models import registry
    from ..scene.fill_models import get_fill_model
    from ..scene.fill_models import registry as fill_registry

    spec = _depth_spec(depth_model)
    if not spec.commercial:
        usable = ", ".join(s.name for s in registry().values() if s.commercial)
        raise InputError(
            f"--commercial-only: depth model {spec.name} is licensed {spec.licence}, which does not allow "
            f"commercial use; pick a commercial one ({usable}; `stillcam models`) or give a depth map with "
            "--depth"
        )
    for name in fill_models:
        fill = get_fill_model(name, allow_noncommercial=True)
        if not fill.commercial:
            usable = ", ".join(s.name for s in fill_registry().values() if s.commercial)
            raise InputError(
                f"--commercial-only: fill model {fill.name} is licensed {fill.licence}, which does not allow "
                f"commercial use; use a commercial one ({usable}) or a classical fill (--fill telea "
                "--outpaint propagate)"
            )


def check_recipe_models(models: Sequence[Mapping[str, Any]], where: str) -> None:
    """``--commercial-only`` on a re-render: refuse a recipe whose output was made with a
    non-commercial model (its cached depth estimate or fill results would be reused).

    Raises:
        InputError: the first such model, with its role and licence.
    """
    for model in models:
        if not model.get("commercial", False):
            raise InputError(
                f"--commercial-only: {where} was made with {model.get('role', 'a')} model "
                f"{model.get('name')} (licensed {model.get('licence', 'unknown')}), which does not allow "
                "commercial use; render the photo again with commercial models instead of re-rendering"
            )


# ----------------------------------------------------------------------------------------
# The models list


def _sha256(path: Path) -> str:
    """The file's SHA-256, remembered per (path, size, mtime) for this process."""
    return sha256_file_cached(path)


def weights_digest(files: Sequence[tuple[str, Path]]) -> tuple[str | None, list[dict[str, str]]]:
    """(the models list's ``sha256``, its ``files``) for weights files ``(name, path)``: one
    file's SHA-256, or for several the SHA-256 of their sorted ``sha256sum`` listing."""
    listed = sorted((name, _sha256(path)) for name, path in files)
    if not listed:
        return None, []
    records = [{"file": name, "sha256": sha} for name, sha in listed]
    if len(listed) == 1:
        return listed[0][1], records
    text = "".join(f"{sha}  {name}\n" for name, sha in listed)
    return hashlib.sha256(text.encode()).hexdigest(), records


def _folder_weights(spec: Any, folder: Path) -> list[tuple[str, Path]]:
    """The weights files a depth model loads from ``folder``: MoGe-2's one ONNX graph; for
    transformers models the ``.safetensors`` files (what ``from_pretrained`` prefers), else the
    other weights files found."""
    from ..errors import StillcamError

    if spec.family == "moge":
        try:
            from ..depth.moge import onnx_file

            file = onnx_file(folder)
            return [(file.name, file)]
        except (ImportError, StillcamError):
            pass
    files = [p for p in folder.rglob("*") if p.suffix.lower() in WEIGHTS_SUFFIXES and p.is_file()]
    preferred = [p for p in files if p.suffix.lower() == ".safetensors"] or files
    return [(p.relative_to(folder).as_posix(), p) for p in preferred]


def _depth_weights(
    spec: Any, revision: str, model_dir: str | None
) -> tuple[str | None, list[dict[str, str]]]:
    """The weights of the depth model folder that holds ``revision``, found without a download
    (none for plug-ins, or when that revision is no longer on disk)."""
    if spec.family == "plugin":
        return None, []
    from ..depth.estimate import model_folder
    from ..errors import StillcamError

    try:
        folder, found = model_folder(spec, model_dir, download=False)
    except (StillcamError, ImportError, OSError):
        return None, []
    if found != revision or not folder.is_dir():
        return None, []
    return weights_digest(_folder_weights(spec, folder))


def _depth_record(record: Mapping[str, Any], model_dir: str | None) -> dict[str, Any]:
    from ..depth.models import registry

    spec = registry().get(record["model"])
    revision = record.get("revision")
    entry: dict[str, Any] = {"role": "depth", "name": record["model"], "revision": revision}
    if spec is None:  # a plug-in no longer installed: what the recipe said, licence unknown
        return {**entry, "repo": None, "licence": "unknown", "commercial": False, "sha256": None}
    sha, files = _depth_weights(spec, revision, model_dir) if revision else (None, [])
    entry.update(repo=spec.repo_id, licence=spec.licence, commercial=spec.commercial, sha256=sha)
    return {**entry, "files": files} if files else entry


def _fill_record(record: Mapping[str, Any]) -> dict[str, Any]:
    from ..scene.fill_models import find_fill_model

    try:
        spec = find_fill_model(record["name"])
    except InputError:
        spec = None
    sha = record.get("sha256")
    entry = {
        "role": "fill",
        "name": record["name"],
        "repo": record.get("repo_id", spec.repo_id if spec else None),
        "revision": record.get("revision"),
        "licence": record.get("licence", spec.licence if spec else "unknown"),
        "commercial": bool(record.get("commercial", spec.commercial if spec else False)),
        "sha256": sha if isinstance(sha, str) and len(sha) == 64 else None,  # a plug-in's may be a version
    }
    if record.get("file") and entry["sha256"]:
        entry["files"] = [{"file": record["file"], "sha256": sha}]
    if record.get("used_for"):
        entry["used_for"] = list(record["used_for"])
    return entry


def model_records(inputs: Mapping[str, Any], *, model_dir: str | None = None) -> list[dict[str, Any]]:
    """The recipe's ``models`` list from its input records: the depth model of an estimate
    (``inputs.depth.model``; its licence from the registry, its weights hashed when the
    recorded revision is on disk) and the fill models (``inputs.fill_models``). Empty for a
    depth file and classical fills. See the module docstring for ``sha256``."""
    models = []
    depth = inputs.get("depth")
    if isinstance(depth, Mapping) and depth.get("model"):
        models.append(_depth_record(depth, model_dir))
    for fill in inputs.get("fill_models") or ():
        models.append(_fill_record(fill))
    return models


# ----------------------------------------------------------------------------------------
# Signing


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError:
        raise missing_extra("c2pa-python", "provenance") from None
    return c2pa


@dataclass(frozen=True)
class Signing:
    """A checked signing identity (:func:`load_signing`): the private key (PKCS #8 PEM, kept in
    memory only), the certificate chain (PEM, signing certificate first), the C2PA algorithm."""

    key_pem: bytes = field(repr=False)
    chain_pem: bytes = field(repr=False)
    algorithm: str
    subject: str
    certificate_sha256: str

    def record(self) -> dict[str, Any]:
        """What the recipe's ``output`` says about the credential (no secret)."""
        return {"format": "c2pa", "signer": self.subject, "certificate_sha256": self.certificate_sha256}


def _algorithm(key: Any) -> str:
    """The C2PA signing algorithm for a private key (ES256/384/512, PS256, Ed25519)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
        raise ValueError(f"an elliptic-curve key on {key.curve.name}; C2PA signs with P-256, P-384 or P-521")
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ValueError(f"an RSA key of {key.key_size} bits; C2PA needs at least 2048")
        return "PS256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ED25519"
    raise ValueError(f"a {type(key).__name__}; C2PA signs with EC (P-256/384/521), RSA (PSS) or Ed25519")


def _parse_identity(key_data: bytes, cert_data: bytes) -> tuple[Any, list[Any]]:
    """The private key and the certificates (PEM or DER), the key matching the first one.

    Raises:
        ValueError: what is wrong, in words (no secret in it).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        load = (
            serialization.load_pem_private_key
            if b"-----BEGIN" in key_data
            else serialization.load_der_private_key
        )
        key = load(key_data, password=None)
    except TypeError:
        raise ValueError(
            "KEY is encrypted; give an unencrypted private key (keep the file private)"
        ) from None
    except ValueError:
        if b"CERTIFICATE-----" in key_data:
            raise ValueError(
                "KEY holds a certificate, not a private key (the order is --sign KEY CERT)"
            ) from None
        raise ValueError("KEY is not a private key in PEM or DER") from None
    try:
        certs = (
            x509.load_pem_x509_certificates(cert_data)
            if b"-----BEGIN" in cert_data
            else [x509.load_der_x509_certificate(cert_data)]
        )
    except ValueError:
        raise ValueError("CERT is not an X.509 certificate chain in PEM (or one DER certificate)") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, public)
    if certs[0].public_key().public_bytes(serialization.Encoding.DER, public) != mine:
        raise ValueError("the first certificate in CERT is not KEY's (put the signing certificate first)")
    return key, certs


def load_signing(key: str | Path, cert: str | Path) -> Signing:
    """Read and check ``--sign KEY CERT`` before any render work: the files (regular, at most
    1 MiB), the key's type, that the first certificate is the key's, and a test signature of a
    tiny image by c2pa itself (which checks the chain's profile: not self-signed, key usage,
    extended key usage such as emailProtection, an authority key identifier, validity dates).

    Raises:
        InputError: one line naming ``--sign``, the file and the problem (never the key).
        MissingExtraError: c2pa-python (extra ``provenance``) is not installed.
    """
    c2pa = _c2pa()
    from cryptography.hazmat.primitives import hashes, serialization

    where = f"--sign {key} {cert}"
    key_data = read_bytes_bounded(key, what="private key (KEY of --sign)", max_bytes=_MAX_PEM_BYTES)
    cert_data = read_bytes_bounded(cert, what="certificate chain (CERT of --sign)", max_bytes=_MAX_PEM_BYTES)
    try:
        private, certs = _parse_identity(key_data, cert_data)
        algorithm = _algorithm(private)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    pkcs8 = serialization.PrivateFormat.PKCS8
    signing = Signing(
        key_pem=private.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()),
        chain_pem=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs),
        algorithm=algorithm,
        subject=certs[0].subject.rfc4514_string(),
        certificate_sha256=certs[0].fingerprint(hashes.SHA256()).hex(),
    )
    try:
        _preflight(c2pa, signing)
    except c2pa.C2paError as exc:
        raise InputError(
            f"{where}: c2pa refused the signing identity ({one_line(exc, 200)}); give the signing "
            "certificate first, then its issuers; it needs digitalSignature key usage, an extended key "
            "usage C2PA accepts (e.g. emailProtection) and an authority key identifier, issued by a CA "
            "(not self-signed) and valid today"
        ) from None
    return signing


def _signer(c2pa: Any, signing: Signing) -> Any:
    alg = getattr(c2pa.C2paSigningAlg, signing.algorithm)
    info = c2pa.C2paSignerInfo(alg, signing.chain_pem, signing.key_pem, None)  # PEM bytes
    return c2pa.Signer.from_info(info)


def _context(c2pa: Any) -> Any:
    """c2pa's settings for signing: no thumbnails (the source photo's and the output's would be
    embedded in every file, and decoded first)."""
    return c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})


def _tiny_png() -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert ok
    return data.tobytes()


def _preflight(c2pa: Any, signing: Signing) -> None:
    """Sign a tiny PNG in memory (c2pa validates what it signed)."""
    definition = {"claim_generator_info": [{"name": "stillcam", "version": __version__}], "assertions": []}
    with _context(c2pa) as context, _signer(c2pa, signing) as signer, c2pa.Builder(definition, context) as b:
        b.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CREATION)
        b.sign(signer, "image/png", io.BytesIO(_tiny_png()), io.BytesIO())


def check_signable(target: OutputTarget) -> None:
    """Refuse ``--sign`` for an output whose container carries no C2PA manifest (MKV, EXR
    sequences), before any work.

    Raises:
        InputError: one line naming the output and the containers that carry credentials.
    """
    if target.path.suffix.lower() not in CREDENTIAL_FORMATS:
        raise InputError(
            f"--sign: {target.path.name} cannot carry C2PA content credentials ({target.path.suffix} has no "
            "place for a manifest); sign a .mp4 or .mov video or a .####.png sequence, or drop --sign"
        )


@dataclass(frozen=True)
class ContentCredential:
    """What :class:`SignedSink` signs with: the identity and the source photo (None: the
    bundled example), whose bytes become the manifest's parent ingredient."""

    signing: Signing
    photo: Path | None


def _photo_ingredient(photo: Path, sha256: str) -> tuple[dict[str, Any], bytes]:
    """The parent ingredient's definition and the photo's bytes, checked against the recipe.

    Raises:
        OutputError: the photo changed (or went) since it was read.
    """
    try:
        data = photo.read_bytes()
    except OSError as exc:
        raise OutputError(f"--sign: the photo {photo} cannot be read again ({exc.strerror or exc})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OutputError(
            f"--sign: the photo {photo} changed during the render (SHA-256 differs); render again"
        )
    ingredient = {
        "title": photo.name,
        "relationship": "parentOf",
        "description": f"the source photo, SHA-256 {sha256}",
        "metadata": {"stillcam:sha256": sha256},
    }
    return ingredient, data


def _models_summary(recipe: Recipe) -> list[dict[str, Any]]:
    keys = ("role", "name", "repo", "revision", "licence", "commercial", "sha256")
    return [{k: m.get(k) for k in keys} for m in recipe.models]


def _definition(recipe: Recipe, title: str, mime: str) -> dict[str, Any]:
    """The manifest's definition: claim generator, title, stillcam's own assertion."""
    inputs = recipe.inputs
    photo = (
        {"photo_sha256": inputs["photo"]["sha256"]} if "photo" in inputs else {"example": inputs["example"]}
    )
    data = {"stillcam_version": recipe.stillcam_version, **photo, "models": _models_summary(recipe)}
    return {
        "claim_generator_info": [{"name": "stillcam", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": [{"label": ASSERTION_LABEL, "data": data}],
    }


def _edit_action(recipe: Recipe) -> dict[str, Any]:
    """The AI-assisted edit: the models named, ``trainedAlgorithmicMedia`` when any touched it."""
    names = ", ".join(f"{m['role']} model {m['name']}" for m in recipe.models) or "no trained model"
    action: dict[str, Any] = {
        "action": "c2pa.edited",
        "softwareAgent": {"name": "stillcam", "version": recipe.stillcam_version},
        "parameters": {
            "description": f"a camera move rendered from a 3D scene of the still and its depth ({names})",
            "models": _models_summary(recipe),
        },
    }
    if recipe.models:
        action["digitalSourceType"] = TRAINED_ALGORITHMIC_MEDIA
    return action


def _photo_source(credential: ContentCredential, recipe: Recipe) -> tuple[dict[str, Any], bytes] | None:
    """The photo's ingredient and bytes (read once for all the files of an output), or None
    for the example."""
    if credential.photo is None:
        return None
    return _photo_ingredient(credential.photo, recipe.inputs["photo"]["sha256"])


def sign_files(files: Sequence[tuple[Path, str]], credential: ContentCredential, recipe: Recipe) -> None:
    """Embed a signed C2PA manifest in each ``(file, title)`` (partial files, replaced in
    place): the photo as parent ingredient (``c2pa.opened``) and a ``c2pa.edited`` action naming
    the models, or, for the example, ``c2pa.created`` as algorithmic media.

    Raises:
        OutputError: c2pa failed, or the photo changed since it was read.
    """
    c2pa = _c2pa()
    source = _photo_source(credential, recipe)
    for file, title in files:
        mime = CREDENTIAL_FORMATS[file.suffix.lower()]
        signed = file.with_name(file.name + ".signing")
        try:
            with _context(c2pa) as context, _signer(c2pa, credential.signing) as signer:
                with c2pa.Builder(_definition(recipe, title, mime), context) as builder:
                    _add_source(c2pa, builder, credential.photo, source)
                    builder.add_action(_edit_action(recipe))
                    with open(file, "rb") as media, open(signed, "w+b") as dest:
                        builder.sign(signer, mime, media, dest)
            os.replace(signed, file)
        except c2pa.C2paError as exc:
            raise OutputError(
                f"{title}: signing its content credentials failed ({one_line(exc, 200)})"
            ) from None
        finally:
            signed.unlink(missing_ok=True)


def sign_file(file: Path, title: str, credential: ContentCredential, recipe: Recipe) -> None:
    """:func:`sign_files` for one file."""
    sign_files([(file, title)], credential, recipe)


def _add_source(
    c2pa: Any, builder: Any, photo: Path | None, source: tuple[dict[str, Any], bytes] | None
) -> None:
    """The intent: an edit of the photo (its bytes as the parent ingredient: parsed by c2pa
    where it reads the format, which keeps a manifest the photo carries; as plain bytes where
    it does not), or the example created."""
    if photo is None or source is None:  # the bundled example: made by an algorithm, no photo
        builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.ALGORITHMIC_MEDIA)
        return
    builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
    ingredient, data = source
    mime = _PHOTO_FORMATS.get(photo.suffix.lower())
    if mime is not None:
        try:
            builder.add_ingredient(ingredient, mime, io.BytesIO(data))
            return
        except c2pa.C2paError:  # a file the loaders accept that c2pa's parser does not
            pass
    builder.add_ingredient(ingredient, "application/octet-stream", io.BytesIO(data))


class SignedSink(WrappedSink):
    """A sink whose finished files carry content credentials: :meth:`finish` finishes the
    wrapped sink, then signs each of its partial files (the video, or every frame) before
    :func:`~stillcam.io.files.publish_all` moves any of them into place."""

    def __init__(self, sink: FrameSink, credential: ContentCredential, recipe: Recipe, *, overwrite: bool):
        super().__init__(sink)
        self._credential = credential
        self._recipe = recipe
        self._overwrite = overwrite

    def finish(self) -> list[tuple[Path, Path]]:
        files = self._sink.finish()
        sign_files([(partial, final.name) for partial, final in files], self._credential, self._recipe)
        return files

    def commit(self) -> None:
        from ..io.files import publish_all

        publish_all(self.finish(), overwrite=self._overwrite)
        self.published()


# ----------------------------------------------------------------------------------------
# Reading


def _reader_context(c2pa: Any, trust_anchors: str | Path | None) -> Any:
    if trust_anchors is None:
        return None
    pem = read_bytes_bounded(trust_anchors, what="trust anchors (PEM)", max_bytes=_MAX_PEM_BYTES)
    return c2pa.Context.from_dict({"trust": {"trust_anchors": pem.decode("ascii", "replace")}})


def _not_present(errors: list[str]) -> dict[str, Any]:
    return {
        "present": False,
        "valid": False,
        "trusted": False,
        "state": None,
        "errors": errors,
        "ingredients": [],
        "actions": [],
        "models": [],
        "signer": None,
    }


def _summary(
    manifest: Mapping[str, Any], state: str | None, failures: list[Mapping[str, Any]]
) -> dict[str, Any]:
    actions, models = [], []
    for assertion in manifest.get("assertions", []):
        label, data = assertion.get("label", ""), assertion.get("data", {})
        if label.startswith("c2pa.actions"):
            actions += list(data.get("actions", []))
        elif label == ASSERTION_LABEL:
            models = list(data.get("models", []))
    ingredients = [
        {
            "title": i.get("title"),
            "format": i.get("format"),
            "relationship": i.get("relationship"),
            "sha256": (i.get("metadata") or {}).get("stillcam:sha256"),
        }
        for i in manifest.get("ingredients", [])
    ]
    errors = [f"{f.get('code')}: {f.get('explanation', '')}".rstrip(": ") for f in failures]
    return {
        "present": True,
        "valid": state in ("Valid", "Trusted"),
        "trusted": state == "Trusted",
        "state": state,
        "errors": [e for e in errors if not e.startswith(UNTRUSTED)],
        "ingredients": ingredients,
        "actions": actions,
        "models": models,
        "signer": manifest.get("signature_info"),
    }


def read_credential(path: str | Path, *, trust_anchors: str | Path | None = None) -> dict[str, Any]:
    """The C2PA content credentials of an output, verified by c2pa's own Reader.

    Returns:
        ``present`` (a manifest is embedded), ``valid`` (its signature and every hash check
        out: c2pa's validation state ``Valid`` or ``Trusted``), ``trusted`` (the chain ends
        in one of ``trust_anchors``, a PEM file; c2pa's own trust list otherwise), ``state``
        (c2pa's word), ``errors`` (c2pa's failure codes with their explanations, one line
        each, without ``signingCredential.untrusted``: that is ``trusted``), ``ingredients``
        (``title``, ``format``, ``relationship``, ``sha256`` of the photo as stillcam
        recorded it), ``actions`` (the ``c2pa.actions`` entries as written), ``models``
        (stillcam's assertion) and ``signer`` (c2pa's ``signature_info``). A file whose
        container carries no manifest (MKV, EXR) is not present, with an error saying so.

    Raises:
        InputError: the file cannot be opened.
        MissingExtraError: c2pa-python is not installed (extra ``provenance``).
    """
    path = Path(path)
    mime = CREDENTIAL_FORMATS.get(path.suffix.lower())
    if mime is None:
        return _not_present([f"{path.suffix or 'a file without suffix'}: no C2PA manifest in this container"])
    c2pa = _c2pa()
    context = _reader_context(c2pa, trust_anchors)
    try:
        with open(path, "rb") as handle:
            reader = c2pa.Reader.try_create(mime, handle, None, context)
            if reader is None:
                return _not_present([])
            with reader:
                manifest = reader.get_active_manifest() or {}
                state = reader.get_validation_state()
                results = reader.get_validation_results() or {}
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except c2pa.C2paError as exc:
        return {**_not_present([one_line(exc, 300)]), "present": True}
    failures = (results.get("activeManifest") or {}).get("failure", [])
    return _summary(manifest, state, failures)


__all__ = [
    "CREDENTIAL_FORMATS",
    "ContentCredential",
    "ProvenanceSettings",
    "SignedSink",
    "Signing",
    "check_commercial_only",
    "check_recipe_models",
    "check_signable",
    "load_signing",
    "model_records",
    "read_credential",
    "sign_file",
    "sign_files",
    "weights_digest",
]
