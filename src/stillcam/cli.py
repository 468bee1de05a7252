"""The command line. Options are generated from the same dataclasses the API uses, and
their field docs are the ``--help`` text (one source of truth).

Every error is one line on stderr, ``stillcam: error: ...``, argparse's too (with a pointer
to ``--help`` instead of the usage block), and a value that starts with ``-`` is a value:
``--size -5x3`` reaches the option's own check ("width and height must be positive") instead
of argparse's "expected one argument".
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import types
import typing
from collections.abc import Sequence
from typing import Any, Literal, NoReturn, get_args, get_origin

from ._version import __version__
from .bounds import MAX_SIDE, MIN_SIDE, check_integer, check_number
from .camera.moves import MOVES
from .errors import InputError, StillcamError
from .options import SECTION_TITLES, SECTIONS, RenderOptions, flag

#: The demo's default move: framed on the example's subject, safe for the motion guard.
DEMO_MOVE = "orbit(degrees=12)"
#: ``stillcam serve`` limits: renders at once, and the largest upload (1 TB).
MAX_WORKERS = 64
MAX_UPLOAD_MB = 1e6


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (an :class:`InputError`: ``stillcam: error: ...`` and a
    pointer to ``--help``, exit 2) and values that may start with ``-``."""

    def error(self, message: str) -> NoReturn:
        """Raise argparse's complaint as one line instead of printing the usage block."""
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)  # words as typed
        raise InputError(f"{shown} (see `{self.prog} --help`)")

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        """Parse ``args`` with ``--opt -value`` read as ``--opt=-value`` (:meth:`_joined`)."""
        return super().parse_known_args(self._joined(sys.argv[1:] if args is None else list(args)), namespace)

    def _joined(self, args: list[str]) -> list[str]:
        """``--size -5x3`` -> ``--size=-5x3``, for options that take one value, when the next
        word starts with ``-`` but is none of this parser's options (nor an abbreviation of
        one): argparse would otherwise take ``-5x3`` for an option and say "expected one
        argument"."""
        takes_value = {
            o for a in self._actions if a.nargs in (None, "?") and a.option_strings for o in a.option_strings
        }
        options = [o for a in self._actions for o in a.option_strings]
        joined: list[str] = []
        i = 0
        while i < len(args):
            word = args[i]
            if word == "--":
                joined += args[i:]
                break
            if (
                _resolved(word, options) in takes_value
                and i + 1 < len(args)
                and _is_value(args[i + 1], options)
            ):
                joined.append(f"{word}={args[i + 1]}")
                i += 2
                continue
            joined.append(word)
            i += 1
        return joined


def _resolved(word: str, options: list[str]) -> str:
    """The option ``word`` names: itself, or the one long option it abbreviates (``--siz``)."""
    if word in options or not word.startswith("--") or "=" in word:
        return word
    matches = [o for o in options if o.startswith(word)]
    return matches[0] if len(matches) == 1 else word


def _is_value(word: str, options: list[str]) -> bool:
    """Whether ``word``, starting with ``-``, is a value rather than an option."""
    if not word.startswith("-") or word in ("-", "--"):
        return False
    name = word.split("=", 1)[0]
    if name in options:
        return False
    return not (name.startswith("--") and len(name) > 2 and any(o.startswith(name) for o in options))


def _parse_triple(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: expected R,G,B with each in [0, 1]")
    return values  # type: ignore[return-value]


def _argument(f: dataclasses.Field, hint: Any) -> tuple[str, dict[str, Any]]:
    """argparse flag and keyword arguments for one dataclass field."""
    kwargs: dict[str, Any] = {"dest": f.name, "help": f.metadata.get("help", "")}
    if "metavar" in f.metadata:
        kwargs["metavar"] = f.metadata["metavar"]
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):  # Optional[X]
        hint = next(a for a in args if a is not type(None))
        origin, args = get_origin(hint), get_args(hint)
    if hint is bool:
        kwargs.update(action=argparse.BooleanOptionalAction, default=f.default)
        kwargs["help"] += f" (default: {'on' if f.default else 'off'})"
        return flag(f), kwargs
    if origin is Literal:
        kwargs.update(choices=list(args), type=type(args[0]))
    elif origin is tuple and args[-1] is Ellipsis:
        kwargs.update(action="append", default=[])
        return flag(f), kwargs
    elif origin is tuple:
        kwargs.update(type=_parse_triple, metavar="R,G,B")
    else:
        kwargs["type"] = hint
    if "const" in f.metadata:  # the flag alone means this value (--shutter = --shutter 180)
        kwargs.update(nargs="?", const=f.metadata["const"])
    kwargs["default"] = f.default
    if f.default is not None and f.default != ():
        shown = ",".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
        kwargs["help"] += f" (default: {shown})"
    return flag(f), kwargs


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add every :class:`RenderOptions` field as a flag, grouped by stage."""
    for name, section in SECTIONS.items():
        group = parser.add_argument_group(SECTION_TITLES[name])
        hints = typing.get_type_hints(section)
        for f in dataclasses.fields(section):
            option, kwargs = _argument(f, hints[f.name])
            group.add_argument(option, **kwargs)


def options_from(namespace: argparse.Namespace) -> RenderOptions:
    """Build :class:`RenderOptions` from parsed arguments."""
    names = [f.name for section in SECTIONS.values() for f in dataclasses.fields(section)]
    return RenderOptions.from_fields({name: getattr(namespace, name) for name in names})


_EXPORT_HELP = (
    ".glb (glTF scene + animated camera), .usda/.usdc (USD, extra 'usd'), .chan (Nuke camera), "
    ".json (transforms.json), .ply (mesh)"
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="shot.mp4 / shot.mov / shot.mkv (codec: --codec) or shot.####.png (frames from "
        "1001); shot.recipe.json is written beside it. With {version} in the file name "
        "(shots/hero_v{version:03d}.mp4) the shot's next free version, claimed, never overwritten "
        "(docs/review.md)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument(
        "--export",
        metavar="FILE",
        action="append",
        default=[],
        help=f"also write the scene and camera to FILE, by extension: {_EXPORT_HELP}; repeatable "
        "(docs/delivery.md)",
    )
    parser.add_argument(
        "--export-cameras",
        metavar="FILE.json",
        help="same as --export FILE.json (per-frame cameras as a nerfstudio-style transforms.json)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _sign_argument(
        parser,
        "embed C2PA content credentials signed with KEY (private key, PEM) and CERT (certificate "
        "chain, PEM, signing certificate first) in a .mp4/.mov video or in every frame of a .####.png "
        "sequence (extra 'provenance'; not .mkv or EXR); checked before any work (docs/delivery.md)",
    )


def _sign_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--sign KEY CERT`` on ``parser`` (render, demo, rerender, batch), with its own help."""
    parser.add_argument("--sign", nargs=2, metavar=("KEY", "CERT"), default=None, help=help)


def _signing(args: argparse.Namespace) -> Any:
    """The ``--sign KEY CERT`` identity, read and checked before any render work, or None."""
    if not getattr(args, "sign", None):
        return None
    from .output.provenance import load_signing

    return load_signing(*args.sign)


def _exports(args: argparse.Namespace) -> list[str]:
    return [*args.export, *([args.export_cameras] if args.export_cameras else [])]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stillcam", description="Turn one still photo and its depth into a 3D camera move.")
    parser.add_argument("--version", action="version", version=f"stillcam {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="render the bundled procedural example (no input files)",
        description="Render the bundled procedural example; needs no files. Its default move is "
        f"{DEMO_MOVE!r} (a dolly-in of the default subject, the far wall, would fly past the red sphere).",
    )
    demo.add_argument(
        "--example-size",
        default="1920x1080",
        help=f"example photo size WxH, {MIN_SIDE}..{MAX_SIDE} px a side (default: 1920x1080)",
    )
    _common(demo)
    add_options(demo)

    render = commands.add_parser(
        "render",
        help="render a photo with its depth map",
        description="Render a photo with its depth map into a camera move.",
    )
    render.add_argument("photo", help="JPEG, PNG (8/16-bit), TIFF or WebP photo")
    render.add_argument(
        "--depth",
        default=None,
        help="depth file: EXR (Z/depth/Y/R channel), PNG/TIFF 16-bit, float TIFF or .npy; "
        "without it, depth is estimated by --depth-model (extra 'models')",
    )
    _common(render)
    add_options(render)

    rerender = commands.add_parser(
        "rerender",
        help="render a recipe again, bit for bit",
        description="Re-render exactly what a recipe describes.",
    )
    rerender.add_argument("recipe", help="a shot.recipe.json written by stillcam")
    rerender.add_argument(
        "--commercial-only",
        action="store_true",
        help="refuse the recipe, before any input is read, if a model whose licence does not allow "
        "commercial use touched its output (its `models` list)",
    )
    _common(rerender)

    export = commands.add_parser(
        "export",
        help="write the scene and camera for Blender, Nuke, Unreal... without rendering",
        description="Write the photo's 3D scene and the shot's camera to files other tools open "
        f"(by extension: {_EXPORT_HELP}), without rendering frames.",
    )
    export.add_argument("photo", help="JPEG, PNG (8/16-bit), TIFF or WebP photo")
    export.add_argument("--depth", default=None, help="depth file (as for render)")
    export.add_argument(
        "-o", "--output", action="append", required=True, metavar="FILE", help="export file; repeatable"
    )
    export.add_argument("--overwrite", action="store_true", help="replace existing files")
    add_options(export)

    _batch_parser(commands)
    _qc_parser(commands)
    _review_parsers(commands)
    _board_parser(commands)

    serve = commands.add_parser(
        "serve",
        help="run the local web app (extra 'web'): drop a photo, pick a move, preview, render",
        description="Run the local web app and print its URL (nothing is opened). It binds 127.0.0.1; "
        "with another --host it prints a warning and a random access token every request must carry.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port, 1..65535 (default: 8000)")
    serve.add_argument(
        "--data-dir",
        default=None,
        help="folder for uploads and renders (default: $XDG_DATA_HOME/stillcam/web, else "
        "~/.local/share/stillcam/web)",
    )
    serve.add_argument(
        "--max-upload-mb",
        type=float,
        default=200.0,
        help=f"largest upload in MB, (0, {MAX_UPLOAD_MB:g}] (default: 200)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help=f"renders run at once, 1..{MAX_WORKERS} (default: 1; others queue)",
    )

    commands.add_parser("moves", help="list the camera moves and their parameters with units")
    models = commands.add_parser(
        "models",
        help="list the depth and fill models with their licences, or fetch one",
        description="List the depth models (licence, commercial use, output, size) and the fill "
        "models (--fill/--outpaint NAME), or `pull NAME` to download one into the Hugging Face "
        "cache on a connected machine.",
    )
    models.add_argument("action", nargs="?", choices=["list", "pull"], default="list")
    models.add_argument("name", nargs="?", help="model to pull")
    models.add_argument(
        "--allow-noncommercial", action="store_true", help="allow pulling a non-commercial model"
    )
    return parser


def _print_table(rows: list[dict[str, str]]) -> None:
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys).rstrip())
    for row in rows:
        print("  ".join(row[k].ljust(widths[k]) for k in keys).rstrip())


def _models(args: argparse.Namespace) -> None:
    from .depth.models import get_model, model_table
    from .scene.fill_models import fill_model_table, find_fill_model, get_fill_model

    if args.action == "list":
        print("depth models (--depth-model NAME, extra 'models'):")
        _print_table(model_table())
        print("\nfill models (--fill NAME, --outpaint NAME, extra 'fill'):")
        _print_table(fill_model_table())
        print(
            "\nNon-commercial models run only with --allow-noncommercial (--commercial-only refuses them). "
            "Weights load from the Hugging Face cache (`stillcam models pull NAME` on a connected "
            "machine), or --model-dir (depth) and --fill-model-dir (fill)."
        )
        return
    if not args.name:
        raise InputError("stillcam models pull NAME: name the model to fetch (see `stillcam models`)")
    if find_fill_model(args.name) is not None:
        from .scene.generative import fill_weights

        spec = get_fill_model(args.name, allow_noncommercial=args.allow_noncommercial)
        weights = fill_weights(spec.name, None, download=True)
        print(f"{spec.name}: {spec.repo_id}@{weights.revision} {weights.path} (SHA-256 {weights.sha256})")
        return
    from .depth.estimate import model_folder

    spec = get_model(args.name, allow_noncommercial=args.allow_noncommercial)
    folder, revision = model_folder(spec, None, download=True)
    print(f"{spec.name}: {spec.repo_id}@{revision} in {folder}")


def _serve(args: argparse.Namespace) -> None:
    import os
    from pathlib import Path

    from .web.server import ServeSettings, serve

    check_integer("--port", args.port, 1, 65535, what="a TCP port")
    check_integer("--workers", args.workers, 1, MAX_WORKERS, what="renders at once")
    check_number("--max-upload-mb", args.max_upload_mb, 0.0, MAX_UPLOAD_MB, what="megabytes", open_low=True)
    data = (
        args.data_dir
        or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "stillcam" / "web"
    )
    serve(
        ServeSettings(
            data_dir=Path(data),
            host=args.host,
            port=args.port,
            max_upload_mb=args.max_upload_mb,
            workers=args.workers,
        )
    )


def _review_parsers(commands: Any) -> None:
    """The ``diff`` and ``versions`` subcommands (docs/review.md)."""
    diff = commands.add_parser(
        "diff",
        help="what differs between two renders' recipes, in units (exit 0 same, 1 different, 2 bad input)",
        description="Print what differs from recipe A to recipe B, one line per change in its unit "
        "(`orbit.degrees 8 deg -> 12 deg`, `shot.duration 4 s -> 3 s`, `inputs.photo changed (sha256 ...)`): "
        "inputs by content, the stillcam version, models, every option (a move per parameter when both "
        "have the same moves, else the whole --move), the output and the guard's findings. Nothing is "
        "printed when they are the same. Exit 0: the same; 1: they differ; 2: a bad recipe "
        "(docs/review.md, Diff).",
    )
    diff.add_argument(
        "a", metavar="A", help="a recipe (shot.recipe.json), or an output whose recipe is beside it"
    )
    diff.add_argument("b", metavar="B", help="the recipe to compare it with (as A)")
    diff.add_argument("--json", action="store_true", help="print the changes as a JSON list instead")
    versions = commands.add_parser(
        "versions",
        help="list every shot's versions in a folder with what changed from the one before",
        description="List the versions in SHOT_DIR (renders named NAME_vNNN, e.g. by `render -o "
        "'SHOT_DIR/hero_v{version:03d}.mp4'`, which takes the next free number): per shot, each "
        "version's date, output, size and frames, and under it what changed from the version before, "
        "one line per change (docs/review.md, Versions).",
    )
    versions.add_argument("folder", metavar="SHOT_DIR", help="the folder of the versions")
    versions.add_argument("--json", action="store_true", help="print the listing as JSON instead")


def _review(args: argparse.Namespace) -> int:
    """``stillcam diff`` (0 same, 1 different; a bad recipe raises: exit 2) and ``stillcam versions``."""
    import json

    if args.command == "diff":
        from .review.diff import diff_files, format_changes

        changes = diff_files(args.a, args.b)
        if args.json:
            print(json.dumps([c.to_dict() for c in changes], indent=2))
        else:
            print(format_changes(changes), end="")
        return 1 if changes else 0
    from .review.versions import claims_in, format_versions, list_versions

    shots = list_versions(args.folder)
    claims = claims_in(args.folder)
    if args.json:
        listing = {shot: [v.to_dict() for v in versions] for shot, versions in shots.items()}
        print(json.dumps({"shots": listing, "claims": [str(c) for c in claims]}, indent=2))
    else:
        print(format_versions(shots, claims), end="")
    return 0


def _takes_version(args: argparse.Namespace) -> bool:
    """Whether a render's ``-o`` has ``{version}`` (it takes the next free version, docs/review.md)."""
    from .review.versions import uses_version

    return args.command in ("render", "demo", "rerender") and uses_version(args.output)


def _qc_parser(commands: Any) -> None:
    """The ``qc`` subcommand: probe an output, check it against a spec (docs/delivery.md, "QC")."""
    from .qc.spec import spec_names

    names = ", ".join(spec_names())
    qc = commands.add_parser(
        "qc",
        help="check an output as a delivery desk would: codec, size, colour tags, fps, upscaling, licences",
        description="Probe a video or frame sequence (the file itself, not the recipe): size and aspect, "
        "codec, profile, bit depth, chroma, colour tags, exact fps, frame count, timecode; read the recipe "
        "beside it for the upscale factor (output px per photo px; above 1 fails), the largest reveal, the "
        "models and their licences; check a content credential (extra 'provenance'). Prints tables, writes "
        "JSON. Exit 0: every check passed; 1: a check failed; 2: bad input or spec (docs/delivery.md, QC).",
    )
    qc.add_argument(
        "output",
        help="a video (shot.mov), a frame sequence (shot.####.exr, or one of its frames) or its recipe",
    )
    qc.add_argument(
        "--spec",
        default=None,
        help=f"limits to check: a shipped spec ({names}) or a YAML spec file (default: only the upscale "
        "check, at most 1.0)",
    )
    qc.add_argument(
        "--json",
        metavar="FILE",
        default=None,
        help="write the JSON report to FILE (default: beside the output, shot.mov.qc.json or "
        "shot.png.qc.json); - prints the JSON on stdout instead of the tables",
    )
    qc.add_argument("--no-json", action="store_true", help="write no JSON report file")


def _qc(args: argparse.Namespace) -> int:
    """``stillcam qc``: 0 every check passed, 1 a check failed (bad input raises: exit 2)."""
    from .qc import run_qc

    if args.no_json and args.json is not None:
        raise InputError("--json and --no-json: give one of them")
    code, _ = run_qc(args.output, spec=args.spec, json_path=args.json, write_json=not args.no_json)
    return code


#: ``stillcam batch --workers`` bound.
MAX_BATCH_WORKERS = 256
#: Frames per chunk of a long shot on Ray: the default (``batch.chunks.CHUNK_FRAMES``) and the most.
DEFAULT_CHUNK_FRAMES = 48
MAX_CHUNK_FRAMES = 100_000


def _batch_parser(commands: Any) -> None:
    """The ``batch`` subcommand: a shot list, ``-o DIR``, the batch's flags and every render
    option as a default for the list's shots."""
    batch = commands.add_parser(
        "batch",
        help="render a shot list (YAML, JSON or CSV) on a local process pool or a Ray cluster",
        description="Render every shot of a shot list into -o DIR, with a manifest (DIR/batch.json, "
        "DIR/batch.csv). The whole list is checked before any work. The render options below are "
        "defaults for every shot: they override the list's `defaults:`, a shot's own fields override "
        "them (docs/batch.md).",
    )
    batch.add_argument(
        "shot_list", metavar="LIST", help="shots.yaml / shots.json / shots.csv (docs/batch.md)"
    )
    batch.add_argument(
        "-o",
        "--output",
        metavar="DIR|URL",
        required=True,
        help="folder of the outputs and the manifest, or a folder on storage by fsspec URL "
        "(s3://bucket/renders, gs://, az://, file://; extra 'storage' and the protocol's package, "
        "e.g. s3fs): shots are rendered locally, then uploaded (docs/batch.md, Storage)",
    )
    batch.add_argument(
        "--template",
        default=None,
        help="default output name template under DIR (default: {shot}_v{version:03d}.mp4; fields "
        "{shot}, {version}, {seq}; .mov, .mkv, .####.png, .####.exr)",
    )
    batch.add_argument(
        "--export",
        metavar="TEMPLATE",
        action="append",
        default=[],
        help=f"default export name template, e.g. {{shot}}_v{{version:03d}}.glb; repeatable ({_EXPORT_HELP})",
    )
    batch.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"local processes, 1..{MAX_BATCH_WORKERS} (default: as many as the cores and the memory "
        "allow); with --cluster, Ray tasks in flight at once (default: twice the cluster's CPUs)",
    )
    batch.add_argument(
        "--cluster",
        metavar="ray|auto|ray://HOST:PORT",
        default=None,
        help="render on Ray (extra 'cluster'): `ray` (RAY_ADDRESS, else a local Ray), `auto` (a running "
        "cluster) or ray://HOST:PORT",
    )
    batch.add_argument(
        "--chunk-frames",
        type=int,
        default=None,
        metavar="N",
        help=f"with --cluster, frames per chunk of a long shot, 1..{MAX_CHUNK_FRAMES} (default "
        f"{DEFAULT_CHUNK_FRAMES}): more frames, fewer chunk tasks and less scene planning, fewer in parallel",
    )
    batch.add_argument(
        "--resume", action="store_true", help="skip shots whose output exists with the same recipe"
    )
    batch.add_argument(
        "--overwrite", action="store_true", help="replace existing versions instead of taking the next one"
    )
    stop = batch.add_mutually_exclusive_group()
    stop.add_argument(
        "--fail-fast", dest="fail_fast", action="store_true", help="stop at the first failed shot"
    )
    stop.add_argument(
        "--continue-on-error",
        dest="fail_fast",
        action="store_false",
        help="render every shot whatever fails (default)",
    )
    _sign_argument(
        batch,
        "sign every shot's output with C2PA content credentials, as `render --sign` (extra "
        "'provenance'; .mp4, .mov, .####.png outputs): checked before any work; each worker reads "
        "KEY and CERT again, so on a cluster they must be at the same path on every node",
    )
    batch.add_argument("--quiet", action="store_true", help="plain lines instead of a progress bar")
    add_options(batch)
    option_names = {f.name for section in SECTIONS.values() for f in dataclasses.fields(section)}
    for action in batch._actions:  # given options only: the others leave the list's defaults alone
        if action.dest in option_names:
            action.default = argparse.SUPPRESS


def _batch_backend(args: argparse.Namespace) -> Any:
    """The backend ``--cluster`` and ``--workers`` ask for (Ray imported only when asked)."""
    if args.cluster is None:
        from .batch.local import LocalBackend

        if args.chunk_frames is not None:
            raise InputError("--chunk-frames splits long shots on Ray; give it with --cluster")
        return LocalBackend(args.workers)
    if args.cluster not in ("ray", "auto") and not args.cluster.startswith("ray://"):
        raise InputError(f"--cluster {args.cluster!r}: give ray, auto or ray://HOST:PORT")
    import importlib.util

    from .errors import missing_extra

    if importlib.util.find_spec("ray") is None:
        raise missing_extra("ray", "cluster")
    from .batch.ray_backend import RayBackend  # (imports ray only when it runs)

    # --workers on Ray: tasks in flight at once (default: twice the cluster's CPUs).
    chunk_frames = DEFAULT_CHUNK_FRAMES if args.chunk_frames is None else args.chunk_frames
    address = None if args.cluster == "ray" else args.cluster
    return RayBackend(address, max_in_flight=args.workers, chunk_frames=chunk_frames)


def _batch(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``stillcam batch``: check the whole list (every problem on its own line, exit 2), render,
    keep the manifest; exit 0 when every shot is done or skipped, else 1."""
    import shlex

    from .batch.run import exit_code, plan_batch, progress, run_batch, signed_plan, summary
    from .batch.shotlist import ShotListErrors

    if args.workers is not None:
        check_integer("--workers", args.workers, 1, MAX_BATCH_WORKERS, what="processes")
    if args.chunk_frames is not None:
        check_integer("--chunk-frames", args.chunk_frames, 1, MAX_CHUNK_FRAMES, what="frames")
    names = [f.name for section in SECTIONS.values() for f in dataclasses.fields(section)]
    cli: dict[str, Any] = {name: getattr(args, name) for name in names if hasattr(args, name)}
    if args.template is not None:
        cli["output"] = args.template
    if args.export:
        cli["exports"] = tuple(args.export)
    backend = _batch_backend(args)
    try:
        plan = plan_batch(args.shot_list, args.output, cli, overwrite=args.overwrite, resume=args.resume)
        if args.sign:
            plan = signed_plan(plan, *args.sign)
    except ShotListErrors as exc:
        for line in exc.lines:
            print(f"stillcam: error: {_one_line(line)}", file=sys.stderr)
        count, plural = len(exc.lines), "s" if len(exc.lines) > 1 else ""
        print(
            f"stillcam: error: {args.shot_list}: {count} problem{plural}; nothing was rendered",
            file=sys.stderr,
        )
        return 2
    settings = {
        "list": str(args.shot_list),
        "output_dir": str(args.output),
        "backend": "local" if args.cluster is None else args.cluster,
        "workers": args.workers,
        "chunk_frames": args.chunk_frames,
        "signed": bool(args.sign),
        "resume": args.resume,
        "overwrite": args.overwrite,
        "fail_fast": args.fail_fast,
        "defaults": {k: list(v) if isinstance(v, tuple) else v for k, v in cli.items()},
    }
    with progress(plan, bar=not args.quiet and sys.stderr.isatty()) as report:
        manifest = run_batch(
            plan,
            backend,
            overwrite=args.overwrite,
            fail_fast=args.fail_fast,
            command=shlex.join(["stillcam", *argv]),
            settings=settings,
            on_record=report,
        )
    from .batch.editorial import editorial_available, write_batch_timeline

    if editorial_available():  # back to editorial: the rendered clips, in the list's order
        write_batch_timeline([s.job for s in plan.shots], manifest.shots, plan.out_dir)
    print(summary(manifest, args.output), file=sys.stderr)  # the folder as given
    return exit_code(manifest)


def _board_parser(commands: Any) -> None:
    """``stillcam board``: moves side by side, and ``--pick N`` to render one cell again."""
    board = commands.add_parser(
        "board",
        help="render moves (or a parameter sweep) side by side: contact sheet, grid video, a recipe per cell",
        description="Render each move of --moves (or each value of a --sweep, or the cross of two) as a "
        "labelled cell into the folder -o: cells/NN_<move>.mp4 with their recipes, board.png and board.pdf "
        "(first, middle, last frame of each cell, its expression and units under it), board.mp4 (every "
        "cell in sync, labels burnt in) and board.json. --size is the grid video's (default HD; the cells "
        "are the largest that fit), or give --cell-size. `stillcam board BOARD --pick N -o shot.mov "
        "[--size UHD ...]` renders cell N again from its recipe, with those options changed "
        "(docs/review.md).",
    )
    board.add_argument(
        "source", nargs="?", help="the photo (JPEG, PNG, TIFF, WebP); with --pick: the board's folder"
    )
    board.add_argument("--depth", default=None, help="the photo's depth file (as for render)")
    board.add_argument(
        "--example",
        action="store_true",
        help="render the bundled procedural example instead of a photo (as `stillcam demo`)",
    )
    board.add_argument(
        "--example-size",
        default="1920x1080",
        help="with --example: the example photo's size WxH (default: 1920x1080)",
    )
    board.add_argument(
        "--moves",
        default="all",
        metavar="all|MOVE,...",
        help="the cells' moves: all (every move of `stillcam moves`, aliases once) or names with "
        "optional parameters, comma-separated, e.g. pan,orbit(degrees=8) (default: all)",
    )
    board.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="PARAM=V1,V2,...",
        help="one cell per value of a move parameter (in its unit), for every move; twice: every "
        "pair of values (a cross), e.g. --moves orbit --sweep degrees=4,8,12",
    )
    board.add_argument(
        "--cell-size",
        default=None,
        metavar="WxH",
        help="each cell's size (even sides); the grid video is made as large as they need "
        "(instead of --size)",
    )
    board.add_argument(
        "--pick",
        type=int,
        default=None,
        metavar="N",
        help="render cell N of the board folder SOURCE again to -o, from its recipe; the options "
        "given change it (e.g. --size UHD --codec prores-422hq); none: the cell's own bytes",
    )
    board.add_argument(
        "-o",
        "--output",
        required=True,
        help="the board's folder (made; an empty one, or an earlier board with --overwrite); with "
        "--pick: the shot (shot.mp4, shot.mov, shot.####.png ...)",
    )
    board.add_argument("--overwrite", action="store_true", help="replace an earlier board (or --pick output)")
    board.add_argument("--quiet", action="store_true", help="no progress bar")
    add_options(board)
    option_names = {f.name for section in SECTIONS.values() for f in dataclasses.fields(section)}
    for action in board._actions:  # given options only: a board's defaults are its cells'
        if action.dest in option_names:
            action.default = argparse.SUPPRESS
        if action.dest == "size":
            action.help = (
                "the grid video's size: HD (default), UHD, DCI4K or WxH, even sides; the cells are the "
                "largest of its aspect that fit with their labels. With --pick: the shot's size"
            )


def _board(args: argparse.Namespace) -> int:
    """``stillcam board``: render a board, or ``--pick`` one of its cells."""
    from pathlib import Path

    from .review.board import BoardSource, pick, plan_board, render_board

    names = [f.name for section in SECTIONS.values() for f in dataclasses.fields(section)]
    given = {name: getattr(args, name) for name in names if hasattr(args, name)}
    if args.pick is not None:
        if args.source is None:
            raise InputError(
                "--pick N: name the board's folder, e.g. stillcam board board/ --pick 7 -o shot.mov"
            )
        board_only = [
            flag
            for flag, used in (
                ("--depth", args.depth is not None),
                ("--example", args.example),
                ("--sweep", bool(args.sweep)),
                ("--cell-size", args.cell_size is not None),
            )
            if used
        ]
        if board_only:
            raise InputError(
                f"--pick: {board_only[0]} makes a board; a picked cell's camera and inputs are its recipe's"
            )
        pick(args.source, args.pick, args.output, given, overwrite=args.overwrite, quiet=args.quiet)
        if not args.quiet:
            print(f"wrote {args.output} and its recipe (cell {args.pick} of {args.source})", file=sys.stderr)
        return 0
    if args.example:
        _check_example_size(args.example_size)
    source = BoardSource(
        photo=Path(args.source) if args.source is not None else None,
        depth=Path(args.depth) if args.depth is not None else None,
        example_size=args.example_size if args.example else None,
    )
    plan = plan_board(given, moves=args.moves, sweeps=args.sweep, cell_size=args.cell_size)
    index = render_board(plan, source, args.output, overwrite=args.overwrite, quiet=args.quiet)
    if not args.quiet:
        grid = index["grid"]
        print(
            f"wrote {args.output}: {len(index['cells'])} cells, board.png, board.pdf, board.mp4 "
            f"({grid['width']}x{grid['height']}), board.json",
            file=sys.stderr,
        )
    return 0


def _print_moves() -> None:
    for spec in MOVES.values():
        print(f"{spec.name:10} {spec.summary}")
        for p in spec.params:
            default = "unset" if p.default is None else f"{p.default:g}"
            print(f"    {p.name:9} [{p.unit}] {p.range_text}, default {default}: {p.help}")
    print(
        "\nCombine moves with --move: 'then' plays them in turn, '+' layers one on the move before\n"
        "it; parameters, duration (s), frames and easing go in parentheses, e.g.\n"
        "  --move 'dolly-in(fraction=0.1, duration=2) then pan(degrees=15) + handheld(seed=3)'\n"
        "Shot files with segments or keyframes: --path shot.yaml (docs/moves.md)."
    )


def _with_site_config(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``argv`` with the site configuration's options (``$STILLCAM_CONFIG``, :mod:`stillcam.config`)
    right after the command's name, so the user's own options come later and win."""
    from .config import site_arguments

    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    at = next((i for i, token in enumerate(argv) if token in commands.choices), None)
    if at is None:
        return argv
    accepts = [s for action in commands.choices[argv[at]]._actions for s in action.option_strings]
    return [*argv[: at + 1], *site_arguments(accepts), *argv[at + 1 :]]


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 runtime error, 2 usage/input error)."""
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_with_site_config(parser, given))
    if _takes_version(args):  # -o NAME_v{version:03d}.mp4: the next free version, claimed (docs/review.md)
        from .review.versions import claimed_version

        with claimed_version(args.output, _exports(args), overwrite=args.overwrite) as claim:
            args.output, args.export_cameras = str(claim.output), None
            args.export = [str(path) for path in claim.exports]
            return _run_command(args, given)
    return _run_command(args, given)


def _run_command(args: argparse.Namespace, given: list[str]) -> int:
    """Run the parsed command ``args`` (``given``: the words as typed); returns the exit code."""
    from . import pipeline

    if args.command == "moves":
        _print_moves()
        return 0
    if args.command == "models":
        _models(args)
        return 0
    if args.command == "serve":
        _serve(args)
        return 0
    if args.command in ("qc", "diff", "versions"):  # exit 0 pass/same, 1 fail/different
        return {"qc": _qc, "diff": _review, "versions": _review}[args.command](args)
    if args.command == "batch":
        return _batch(args, given)
    if args.command == "board":
        return _board(args)
    sign = _signing(args)  # --sign: the key and certificate checked before any render work
    if args.command == "rerender":
        pipeline.rerender(
            args.recipe,
            args.output,
            overwrite=args.overwrite,
            quiet=args.quiet,
            exports=_exports(args),
            sign=sign,
            commercial_only=args.commercial_only,
        )
        return 0
    options = options_from(args)
    if args.command == "demo" and options.shot.move is None and options.shot.camera_file is None:
        options = dataclasses.replace(options, shot=dataclasses.replace(options.shot, move=DEMO_MOVE))
    if args.command == "export":
        pipeline.export(args.photo, args.depth, args.output, options, overwrite=args.overwrite)
        print(f"wrote {', '.join(args.output)}", file=sys.stderr)
        return 0
    if args.command == "demo":
        _check_example_size(args.example_size)
        pipeline.demo(
            args.output,
            options,
            example_size=args.example_size,
            overwrite=args.overwrite,
            quiet=args.quiet,
            exports=_exports(args),
            sign=sign,
        )
    else:
        pipeline.render(
            args.photo,
            args.depth,
            args.output,
            options,
            overwrite=args.overwrite,
            quiet=args.quiet,
            exports=_exports(args),
            sign=sign,
        )
    if not args.quiet:
        eyes = options.render.stereo == "separate"  # --stereo separate: <stem>.left and <stem>.right
        written = f"{' and '.join(_eye_outputs(args.output))} and their" if eyes else f"{args.output} and its"
        print(f"wrote {written} recipe", file=sys.stderr)
    return 0


def _eye_outputs(output: str) -> list[str]:
    """The two outputs of ``--stereo separate`` for ``output``, as its folder names them."""
    from .output.stereo import eye_target
    from .output.targets import parse_output

    target = parse_output(output)
    return [str(eye_target(target, eye).path) for eye in ("left", "right")]


def _check_example_size(text: str) -> None:
    """Refuse an ``--example-size`` over the pixel budget of a photo, before it is made."""
    from .camera.plan import parse_size_text
    from .io.limits import input_pixel_budget

    try:
        size = parse_size_text(text)
    except InputError:  # not a size: the demo's own message says what to give
        return
    budget = input_pixel_budget()
    if size is not None and size[0] * size[1] > budget:
        raise InputError(
            f"--example-size {text}: {size[0] * size[1] / 1e6:.0f} MP; the example photo has at most "
            f"{budget / 1e6:.0f} MP, like any photo"
        )


def _one_line(message: str) -> str:
    """A message on one line: the lines of a multi-line one (a library's) joined with " / "."""
    return " / ".join(line.strip() for line in str(message).splitlines() if line.strip())


def _keep_large_allocations() -> None:
    """Ask glibc to serve frame-sized arrays from the heap and keep freed memory there.

    By default every array over 32 MB is a fresh mmap, page-faulted and zeroed by the kernel
    on first touch, and unmapped when freed: a UHD shot spent a quarter of its wall time in the
    kernel doing that (measured: 48 UHD frames 46 s -> 37 s wall, 16 -> 6 s system time, peak
    RSS +2 %). Process-wide, so done here, by the command line that owns the process, never by
    the library. No effect (and no error) off glibc.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: mmap only allocations over 1 GiB
        libc.mallopt(-1, 2**31 - 1)  # M_TRIM_THRESHOLD: do not hand freed heap back at once
    except (OSError, AttributeError):
        pass


def _interrupt_in(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM/SIGHUP (:class:`~stillcam._signals.Terminated`) that ``exc`` was
    raised from, if any: a signal's exception raised while C code called back into Python
    (numba loading a cached kernel) reaches us as a SystemError caused by it."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: one clear line on stderr for every expected error, no traceback;
    warnings (the motion-safety guard's) as ``stillcam: warning: ...`` lines."""
    from ._signals import install_signal_handlers  # SIGTERM, SIGHUP: cleaned up like Ctrl-C

    install_signal_handlers()
    _keep_large_allocations()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("stillcam: warning: %(message)s"))
    log = logging.getLogger("stillcam")
    log.addHandler(handler)
    log.propagate = False
    try:
        code = run(argv)
    except StillcamError as exc:
        print(f"stillcam: error: {_one_line(str(exc))}", file=sys.stderr)
        code = exc.exit_code
    except BrokenPipeError:  # stdout closed early (e.g. `stillcam moves | head`)
        code = 0
    except KeyboardInterrupt as exc:
        print("stillcam: interrupted; no partial output was kept", file=sys.stderr)
        code = 128 + getattr(exc, "signum", 2)  # 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP
    except SystemError as exc:  # Ctrl-C or SIGTERM raised inside a C callback (numba's loader)
        interrupt = _interrupt_in(exc)
        if interrupt is None:
            raise
        print("stillcam: interrupted; no partial output was kept", file=sys.stderr)
        code = 128 + getattr(interrupt, "signum", 2)
    except OSError as exc:
        text = f"{exc.filename or ''} {exc.strerror or exc}".strip()
        print(f"stillcam: error: {_one_line(text)}", file=sys.stderr)
        code = 1
    finally:
        log.removeHandler(handler)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
