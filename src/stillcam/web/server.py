"""The local web app (``stillcam serve``, extra ``web``): the HTTP wiring, and ``_Api``, which
calls the pipeline's planning and caches per upload. FastAPI + uvicorn, a static page with a
WebGL2 viewer (:mod:`.preview` makes what it is sent, and the lens preview: one frame rendered
here with the render's depth of field and motion blur),
uploads (:mod:`.uploads`, sniffed from their headers by :mod:`.sniff`), renders in a bounded
worker pool with job folders on disk (:mod:`.jobs`); every finished render is a version of the
session, with its changes from the one before, a note, approval (its full-quality render) and
its frames for the A/B compare (:mod:`.versions`).

Safety: binds 127.0.0.1 unless ``--host`` says otherwise; then every request but the page must
carry the random access token printed at start-up (``Authorization: Bearer`` or ``?token=``),
``/docs`` and ``/openapi.json`` included (:mod:`.guard`, which also counts body bytes as they
arrive). No endpoint takes a path from the client: photos, depth files and camera files are
uploads named by their ids, and downloads come only from a job's own file list. Every option
is typed by :mod:`.schema` and checked by :class:`~stillcam.options.RenderOptions` when a
request arrives (422 naming the field). Previews have a frame budget (``preview_frames``)
and a time budget (:mod:`.budget`); uploads and finished renders are kept up to a count.

Errors: request bodies that do not fit the schema answer 422, a
:class:`~stillcam.errors.RequestError` its status, any other
:class:`~stillcam.errors.InputError` 400, a model or extra the server lacks 422, other
stillcam errors 500. Messages never show the server's folders.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, which name
# types imported inside the functions (fastapi is an optional extra, imported lazily).

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .._version import __version__
from ..camera.camera import Camera
from ..camera.path import CameraPath
from ..camera.plan import ShotSettings, plan_timing, shot_plan
from ..depth.convert import DepthMap
from ..errors import (
    InputError,
    MissingExtraError,
    ModelUnavailableError,
    RequestError,
    StillcamError,
    missing_extra,
)
from ..export.gltf import texture_jpeg
from ..options import RenderOptions, command_line
from ..output.codecs import VIDEO_CODECS
from ..output.targets import parse_output
from ..pipeline import Destination, camera_plan, load_inputs, plan_cameras, render
from ..safety import Safety
from ..scene.mesh import Scene
from .budget import Budget
from .guard import Guard
from .jobs import KEEP_JOBS, JobStore
from .preview import (
    camera_records,
    focus_m,
    focus_view,
    info,
    jpeg_bytes,
    lens_frame,
    lens_renderer,
    mesh_bytes,
    preview_inputs,
    preview_reach,
    preview_scene,
)
from .schema import ApproveRequest, FrameRequest, NoteRequest, ShotRequest, validation_message
from .uploads import CAMERA_FILE_BYTES, KEEP_UPLOADS, CameraFiles, Uploads, client_name
from .versions import FrameCache, RecipeCache, approval_options, output_name, version_records

STATIC = Path(__file__).with_name("static")
#: Most frames a preview plays (and plans): 200 s at 24 fps; longer shots are rendered unseen.
PREVIEW_FRAMES = 4800
#: Longest a request waits for its preview (or for a camera file's check), in seconds.
PREVIEW_SECONDS = 30.0
#: Previews (and camera-file checks) made at once; more wait for a slot within their budget.
PREVIEW_SLOTS = 2
#: Largest JSON request body, in bytes.
JSON_BYTES = 2**20
_UPLOAD_SLACK = 2**20  # multipart framing around the files


@dataclass(frozen=True)
class ServeSettings:
    """How ``stillcam serve`` runs."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: float = 200.0
    workers: int = 1
    token: str | None = None
    #: Renders that may wait besides the running ones.
    max_queued: int = 8
    #: Photo uploads and camera-file uploads kept (each); older ones are deleted.
    keep_uploads: int = KEEP_UPLOADS
    #: Finished renders kept; older ones are deleted with their files.
    keep_renders: int = KEEP_JOBS
    #: Most frames a preview plans and plays.
    preview_frames: int = PREVIEW_FRAMES
    #: Longest a request waits for its preview, in seconds.
    preview_seconds: float = PREVIEW_SECONDS


@dataclass(frozen=True)
class _Shot:
    """What a preview is made of: the upload's depth and file names, the photo's camera, the
    render's cameras and the guard's findings, the preview scene and its key."""

    depth: DepthMap
    names: dict
    source: Camera
    path: CameraPath
    safety: Safety
    scene_key: str
    scene: Scene


def _output_name(codec: str) -> str:
    spec = VIDEO_CODECS.get(codec)
    if spec is None:
        raise RequestError(f"options.codec: unknown codec {codec!r}", 422)
    return "shot" + spec.suffixes[0]


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _options(flat: dict[str, Any]) -> RenderOptions:
    """The options of a request's (schema-checked) flat values; bad values answer 422."""
    try:
        return RenderOptions.from_fields(flat)
    except InputError as exc:
        raise RequestError(f"options: {exc}", 422) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        raise RequestError(f"options: a value cannot be used ({type(exc).__name__}: {exc})", 422) from None


def _checked(what: str, call):
    """``call()``, with the errors of reading what the client gave answering 422."""
    try:
        return call()
    except (RequestError, ModelUnavailableError, MissingExtraError):
        raise
    except InputError as exc:
        raise RequestError(f"{what}: {exc}", 422) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError, MemoryError) as exc:
        raise RequestError(f"{what}: cannot be used ({type(exc).__name__})", 422) from None


class _Api:
    """What the endpoints do, apart from HTTP: the pipeline's planning and :mod:`.preview`."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.uploads = Uploads(settings.data_dir / "uploads", keep=settings.keep_uploads)
        self.cameras = CameraFiles(settings.data_dir / "cameras", keep=settings.keep_uploads)
        self.jobs = JobStore(
            settings.data_dir / "jobs",
            workers=settings.workers,
            max_queued=settings.max_queued,
            keep=settings.keep_renders,
        )
        self.recipes = RecipeCache(self.jobs.folder)
        self.frames = FrameCache()
        self.limit = int(settings.max_upload_mb * 2**20)
        self.budget = Budget(PREVIEW_SLOTS, settings.preview_seconds, "preview")
        self._private = [
            re.compile(re.escape(str(folder)) + r"(?:/[^/\s:'\"(),]+)*/")
            for folder in sorted({str(settings.data_dir), str(settings.data_dir.resolve())}, key=len)[::-1]
        ]

    # ------------------------------------------------------------------ helpers
    def public(self, message: str) -> str:
        """``message`` without the server's folders (``<data>/uploads/<id>/photo.png`` ->
        ``photo.png``)."""
        for pattern in self._private:
            message = pattern.sub("", message)
        return message

    def body_limit(self, path: str) -> int:
        """The most bytes a request body to ``path`` may have."""
        if path == "/api/photos":
            return self.limit + _UPLOAD_SLACK
        if path == "/api/cameras":
            return CAMERA_FILE_BYTES + _UPLOAD_SLACK
        return JSON_BYTES

    def too_large(self, path: str) -> str:
        if path == "/api/photos":
            return f"upload over the {self.settings.max_upload_mb:g} MB limit (--max-upload-mb)"
        if path == "/api/cameras":
            return f"camera files are at most {CAMERA_FILE_BYTES // 2**20} MB"
        return f"request body over {JSON_BYTES // 2**10} kB"

    def in_use(self) -> set[str]:
        """Upload ids that queued or running renders still read."""
        ids = set()
        for job in self.jobs.pending():
            ids.add(str(job.request.get("photo")))
            ids.add(str(job.request.get("options", {}).get("camera_file")))
        return ids

    def request_options(self, request: ShotRequest) -> tuple[RenderOptions, str | None]:
        """A request's options, its camera file id mapped to the stored file, and that file's
        original name (None without one)."""
        flat = request.flat_options()
        camera_name = None
        if flat.get("camera_file") is not None:
            path, camera_name = self.cameras.file(flat["camera_file"])
            flat["camera_file"] = str(path)
        return _options(flat), camera_name

    def command(self, options: RenderOptions, names: dict, camera_name: str | None, output: str) -> str:
        """The equivalent ``stillcam render`` command, with the client's file names."""
        if camera_name is not None:
            options = replace(options, shot=replace(options.shot, camera_file=camera_name))
        return command_line(options, names.get("photo") or "photo", names.get("depth"), output)

    def camera_plan(self, options: RenderOptions, output: str):
        """The shot's plan with every check that needs no photo (frames span, output options)."""
        dest = Destination(parse_output(output), (), False)
        return _checked("options", lambda: camera_plan(options, dest))

    # ------------------------------------------------------------------ uploads
    def save_upload(self, photo: bytes, depth: bytes | None, photo_name: str, depth_name: str | None):
        saved = self.uploads.save(photo, depth, photo_name, depth_name)
        self.uploads.prune(in_use=self.in_use() | {saved["id"]})
        return saved

    def save_camera(self, data: bytes, name: str) -> dict:
        def check(path: Path) -> dict:
            def describe() -> dict:
                shot = ShotSettings(camera_file=str(path))
                plan = shot_plan(shot)
                timing = plan_timing(plan, shot)
                kind = "transforms" if isinstance(plan, CameraPath) else "shot"
                return {"kind": kind, "frames": timing.frames, "fps": str(timing.fps)}

            try:
                return self.budget.run(describe)
            except RequestError:
                raise
            except InputError as exc:
                raise RequestError(str(exc).replace(str(path), shown), 422) from None
            except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError, MemoryError) as exc:
                raise RequestError(
                    f"{shown}: not a readable camera file ({type(exc).__name__})", 422
                ) from None

        shown = client_name(name, "camera file")

        saved = self.cameras.save(data, name, check)
        self.cameras.prune(in_use=self.in_use() | {saved["id"]})
        return saved

    # ------------------------------------------------------------------ preview
    def inputs(self, upload_id: str, options: RenderOptions):
        """(cache key, picture, depth map, original file names) of an upload, decoded once."""
        photo, depth, names = self.uploads.files(upload_id)
        key = _key(upload_id, options.to_dict()["depth"], options.shot.focal_mm, options.shot.fov)
        picture, depth_map = self.uploads.cached("inputs" + key, lambda: load_inputs(photo, depth, options))
        return key, picture, depth_map, names

    def planned(self, request: ShotRequest) -> tuple[RenderOptions, str | None, str, Any, int]:
        """A preview request's options, camera file name, output name, shot plan and frame
        count, after every check that needs no decoding (422, 404)."""
        options, camera_name = self.request_options(request)
        self.uploads.files(request.photo)  # 404 before any work
        output = _output_name(options.output.codec)
        plan = self.camera_plan(options, output)
        frames = plan_timing(plan, options.shot).frames
        if frames > self.settings.preview_frames:
            raise RequestError(
                f"options: the preview plays at most {self.settings.preview_frames} frames and this shot "
                f"has {frames}; shorten it to preview it (a render takes the whole shot)",
                422,
            )
        return options, camera_name, output, plan, frames

    def preview(self, request: ShotRequest) -> dict:
        """The render's per-frame cameras as clip matrices, and the key of the preview scene."""
        options, camera_name, output, plan, _ = self.planned(request)
        return self.budget.run(lambda: self._preview(request.photo, options, plan, camera_name, output))

    def _shot(self, upload_id: str, options: RenderOptions, plan) -> _Shot:
        """The preview's inputs, cameras (the render's) and scene (from the smaller photo), cached."""
        inputs_key, picture, depth, names = self.inputs(upload_id, options)

        # Cached too: a preview that ran past its time budget is ready when it is asked again.
        source, path, safety = self.uploads.cached(
            "cameras" + _key(inputs_key, options.to_dict()),
            lambda: plan_cameras(picture, depth, options, plan),
        )
        small, small_depth, small_source = self.uploads.cached(
            "small" + inputs_key, lambda: preview_inputs(picture, depth)
        )
        reach = preview_reach(small_source, path.cameras, small_depth.z)
        # The scene depends on the photo, depth, scene options and reach, not on the move.
        scene_key = _key(inputs_key, options.to_dict()["scene"], reach.edge_px, reach.ring_px)
        scene = self.uploads.cached(
            "scene" + scene_key,
            lambda: preview_scene(small, small_depth, small_source, path.cameras, options, reach),
        )
        return _Shot(depth, names, source, path, safety, scene_key, scene)

    def _preview(self, upload_id: str, options: RenderOptions, plan, camera_name, output: str) -> dict:
        shot = self._shot(upload_id, options, plan)
        z = shot.depth.z
        lens = lens_renderer(options, shot.source, z, shot.path)
        return {
            "cameras": camera_records(shot.path.cameras, z),
            "fps": float(shot.path.fps),
            "first_frame": shot.path.first_frame,
            "warnings": list(shot.safety.warnings),
            "scene": shot.scene_key,
            "command": self.command(options, shot.names, camera_name, output),
            # The view a --focus X,Y pixel is measured in (the page shows it to click on).
            "focus_camera": camera_records([focus_view(shot.source, options.shot)], z)[0],
            "focus_m": focus_m(lens, shot.path.cameras[0]),  # None without depth of field
        }

    def lens_frame(self, request: FrameRequest) -> bytes:
        """One frame of the preview scene rendered with the render's depth of field and motion
        blur, at most LENS_PREVIEW_PX (:func:`~stillcam.web.preview.lens_frame`), as a JPEG."""
        options, _, _, plan, frames = self.planned(request)
        if request.index >= frames:
            raise RequestError(f"index: the shot has {frames} frames; give 0..{frames - 1}", 422)

        def render_frame() -> bytes:
            shot = self._shot(request.photo, options, plan)
            renderer = lens_renderer(options, shot.source, shot.depth.z, shot.path)
            try:  # e.g. a focus distance inside the focal length: what the render would say
                pixels = lens_frame(shot.scene, renderer, options, shot.path, request.index)
            except InputError as exc:
                raise RequestError(f"options: {exc}", 422) from None
            return jpeg_bytes(pixels)

        return self.budget.run(render_frame)

    def scene(self, scene_key: str):
        scene = self.uploads.cached_only("scene" + scene_key)
        if scene is None:
            raise RequestError("no such preview scene; ask /api/preview again", 404)
        return scene

    # ------------------------------------------------------------------ renders
    def start_render(self, request: ShotRequest, approves: int | None = None) -> dict:
        """Queue the final render after every check that needs no decoding (422, 404, 429);
        ``approves``: the version it is the approved render of."""
        options, camera_name = self.request_options(request)
        photo, depth, names = self.uploads.files(request.photo)
        output = _output_name(options.output.codec)
        self.camera_plan(options, output)

        def run(folder: Path, on_frame) -> None:
            render(photo, depth, folder / output, options, exports=[folder / "shot.glb"], on_frame=on_frame)

        command = self.command(options, names, camera_name, output)
        record = {"photo": request.photo, "options": request.flat_options()}
        return self.job_record(self.jobs.submit(record, command, run, output=output, approves=approves))

    def job(self, job_id: str):
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError("no such render", 404)
        return job

    def job_record(self, job) -> dict:
        """What the API shows of a job: its record, its error without the server's folders."""
        return {**job.to_dict(), "error": self.public(job.error)}

    # ------------------------------------------------------------------ versions
    def versions(self) -> list[dict]:
        """Every version of the session (:func:`~stillcam.web.versions.version_records`)."""
        versions = self.jobs.versions()
        self.frames.forget({job.id for job in versions})
        return version_records(versions, self.jobs.pending(), self.recipes)

    def version(self, number: int) -> dict:
        record = next((v for v in self.versions() if v["version"] == number), None)
        if record is None:
            raise RequestError(f"no version {number}{self._known()}", 404)
        return record

    def _known(self) -> str:
        numbers = [job.version for job in self.jobs.versions()]
        return (
            f"; the session has versions {', '.join(map(str, numbers))}"
            if numbers
            else "; no render is done yet"
        )

    def version_job(self, number: int):
        job = self.jobs.version(number)
        if job is None:
            raise RequestError(f"no version {number}{self._known()}", 404)
        return job

    def set_note(self, number: int, note: str) -> dict:
        self.jobs.set_note(self.version_job(number).id, note)
        return self.version(number)

    def approve(self, number: int, body: ApproveRequest) -> dict:
        """Queue the full-quality render of version ``number``
        (:func:`~stillcam.web.versions.approval_options`): 404, 409, 422, 429."""
        job = self.version_job(number)
        if job.approves is not None:
            raise RequestError(
                f"version {number} is already the approved render of version {job.approves}; "
                f"approve version {job.approves} again (with another size) instead",
                409,
            )
        pending = [j for j in self.jobs.pending() if j.approves == number]
        if pending:
            raise RequestError(
                f"version {number}'s approval is already {pending[0].state} (render {pending[0].id})", 409
            )
        flat = approval_options(dict(job.request.get("options", {})), body.size)
        try:
            request = ShotRequest.model_validate({"photo": job.request.get("photo"), "options": flat})
        except ValueError:
            raise RequestError(
                f"version {number} was made by a request this server cannot repeat", 409
            ) from None
        try:
            return self.start_render(request, approves=number)
        except RequestError as exc:
            if exc.status != 404:
                raise
            raise RequestError(
                f"version {number}: {exc} (the server keeps the newest {self.settings.keep_uploads} uploads)",
                409,
            ) from None

    def version_frame(self, number: int, index: int) -> bytes:
        """Frame ``index`` (0-based) of version ``number``'s video as a PNG (:class:`FrameCache`)."""
        job = self.version_job(number)
        recipe = self.recipes.get(job)
        frames = None if isinstance(recipe, str) else recipe.output.get("frames")
        if isinstance(frames, int) and index >= frames:
            raise RequestError(f"index: version {number} has {frames} frames; give 0..{frames - 1}", 422)
        name = output_name(job)
        video = self.jobs.folder(job.id) / name if name else None
        if video is None or not video.is_file():
            raise RequestError(f"version {number} has no video to show", 404)
        return self.frames.frame(job.id, video, index)

    def shutdown(self) -> None:
        """Let running renders finish; stop taking previews."""
        self.budget.shutdown()
        self.jobs.shutdown()


def create_app(settings: ServeSettings):
    """The FastAPI application (also what the API tests drive)."""
    try:
        from fastapi import FastAPI
    except ImportError:
        raise missing_extra("fastapi (for stillcam serve)", "web") from None
    api = _Api(settings)
    app = FastAPI(
        title="stillcam",
        version=__version__,
        description="Photo to 3D camera move: the local app's API.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.jobs = api.jobs
    app.state.api = api
    app.add_middleware(Guard, token=settings.token, limit=api.body_limit, too_large=api.too_large)
    _add_errors(app, api)
    _add_scene_routes(app, api)
    _add_preview_routes(app, api)
    _add_version_routes(app, api)
    _add_render_routes(app, api)
    return app


def _status(exc: StillcamError) -> int:
    if isinstance(exc, RequestError):
        return exc.status
    if isinstance(exc, (ModelUnavailableError, MissingExtraError)):
        return 422  # what the request asks for is not on this server: ask for something else
    return 400 if isinstance(exc, InputError) else 500


def _add_errors(app, api: _Api) -> None:
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    @app.exception_handler(StillcamError)
    async def stillcam_error(request: Request, exc: StillcamError):
        return JSONResponse({"detail": api.public(str(exc))}, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # One line naming the fields; the values are not echoed (NaN is no JSON, a value may be large).
        errors = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()]
        errors = json.loads(json.dumps(errors, default=str))
        return JSONResponse({"detail": validation_message(errors), "errors": errors[:20]}, status_code=422)


def _add_scene_routes(app, api: _Api) -> None:
    from typing import Annotated
    from urllib.parse import quote

    from fastapi import File, Request, UploadFile
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse, Response
    from starlette.concurrency import run_in_threadpool

    async def read(upload: UploadFile, what: str, limit: int, flag: str = " (--max-upload-mb)") -> bytes:
        data = bytearray()
        while chunk := await upload.read(1 << 20):
            data += chunk
            if len(data) > limit:
                raise RequestError(f"{what} is over the {limit / 2**20:g} MB limit{flag}", 413)
        if not data:
            raise RequestError(f"{what} is empty")
        return bytes(data)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        token = request.query_params.get("token")  # the guard let it in: the client knows it
        schema = app.openapi_url + (f"?token={quote(token, safe='')}" if token and api.settings.token else "")
        return get_swagger_ui_html(openapi_url=schema, title="stillcam API")

    @app.get("/api/info")
    def get_info() -> dict:
        """Moves (with parameters and units), depth models (with licences), codecs, sizes, defaults."""
        return info()

    @app.post("/api/photos")
    async def upload(
        photo: Annotated[UploadFile, File()], depth: Annotated[UploadFile | None, File()] = None
    ) -> dict:
        """Upload a photo and, optionally, its depth file (multipart); returns the photo's id.

        Both are refused from their headers when they hold more pixels than the server decodes
        (413) or are of no supported kind (415)."""
        photo_bytes = await read(photo, "photo", api.limit)
        depth_bytes = (
            await read(depth, "depth file", api.limit) if depth is not None and depth.filename else None
        )
        depth_name = depth.filename if depth is not None else None
        name = photo.filename or "photo"
        return await run_in_threadpool(api.save_upload, photo_bytes, depth_bytes, name, depth_name)

    @app.post("/api/cameras")
    async def upload_camera(camera: Annotated[UploadFile, File()]) -> dict:
        """Upload a camera file (a shot file, YAML or JSON, or a transforms.json), checked as a
        render reads it; returns its id for the option ``camera_file``, its kind and frames."""
        data = await read(camera, "camera file", CAMERA_FILE_BYTES, flag="")
        return await run_in_threadpool(api.save_camera, data, camera.filename or "camera")

    @app.get("/api/scenes/{scene_key}/mesh.bin")
    def mesh(scene_key: str) -> Response:
        """The preview mesh (see :func:`mesh_bytes`)."""
        return Response(mesh_bytes(api.scene(scene_key)), media_type="application/octet-stream")

    @app.get("/api/scenes/{scene_key}/texture.jpg")
    def texture(scene_key: str) -> Response:
        """The preview scene's texture atlas."""
        jpeg, _ = texture_jpeg(api.scene(scene_key).texture)
        return Response(jpeg, media_type="image/jpeg")


def _add_preview_routes(app, api: _Api) -> None:
    from fastapi.responses import Response

    @app.post("/api/preview")
    def preview(body: ShotRequest) -> dict:
        """Per-frame clip matrices of the shot (the render's cameras), the preview scene's id, the
        equivalent command, the view a ``focus`` X,Y is a pixel of (``focus_camera``) and the first
        frame's focus distance in metres with depth of field (``focus_m``, else null)."""
        return api.preview(body)

    @app.post("/api/preview/frame", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
    def preview_frame(body: FrameRequest) -> Response:
        """One frame of the shot (``index``, 0-based) rendered by the server with the render's
        depth of field (``fstop``, ``focus``) and motion blur (``shutter``, from at most 8 of
        its samples), long side at most 640 px: a JPEG. The browser's viewer draws sharp frames."""
        return Response(api.lens_frame(body), media_type="image/jpeg")


def _add_version_routes(app, api: _Api) -> None:
    from typing import Annotated

    from fastapi import Path as PathParam
    from fastapi.responses import Response

    Number = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="the version's number")]
    Index = Annotated[int, PathParam(ge=0, le=2**31 - 1, description="the frame, 0-based")]

    @app.get("/api/versions")
    def list_versions() -> list[dict]:
        """Every version of the session (each render done in this server's data folder), by
        number: job id, dates, options, frames and size, note, approvals, and the changes from
        the version before (``path``, ``old``, ``new``, ``unit`` and the ``line`` as ``stillcam
        diff`` prints it)."""
        return api.versions()

    @app.get("/api/versions/{number}")
    def get_version(number: Number) -> dict:
        """One version's record (as in the list)."""
        return api.version(number)

    @app.get("/api/versions/{number}/note")
    def get_note(number: Number) -> dict:
        """A version's note."""
        return {"version": number, "note": api.version_job(number).note}

    @app.put("/api/versions/{number}/note")
    def put_note(number: Number, body: NoteRequest) -> dict:
        """Replace a version's note (at most 2000 characters, "" clears it); kept in its job
        folder. Returns the version's record."""
        return api.set_note(number, body.note)

    @app.post("/api/versions/{number}/approve")
    def approve(number: Number, body: ApproveRequest | None = None) -> dict:
        """Queue the full-quality render of a version: its options with ``supersample`` 2 (its
        own when higher), at ``size`` when given. The render is a job (as ``POST /api/renders``
        returns) and, once done, a version whose ``approves`` is ``number``."""
        return api.approve(number, body or ApproveRequest())

    @app.get(
        "/api/versions/{number}/frames/{index}",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def version_frame(number: Number, index: Index) -> Response:
        """Frame ``index`` (0-based) of a version's video, decoded from the file, as an 8-bit
        RGB PNG (what the A/B compare shows)."""
        return Response(api.version_frame(number, index), media_type="image/png")


def _add_render_routes(app, api: _Api) -> None:
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    @app.post("/api/renders")
    def start_render(body: ShotRequest) -> dict:
        """Queue the final render (video, recipe and a .glb export) of the shot."""
        return api.start_render(body)

    @app.get("/api/renders")
    def list_renders() -> list[dict]:
        """Every render kept in this server's data folder, newest first."""
        return [api.job_record(job) for job in api.jobs.all()]

    @app.get("/api/renders/{job_id}")
    def get_render(job_id: str) -> dict:
        """A render's state, progress, files and equivalent command line."""
        return api.job_record(api.job(job_id))

    @app.get("/api/renders/{job_id}/files/{name}")
    def download(job_id: str, name: str) -> FileResponse:
        """One of a finished render's files (only names in its file list)."""
        job = api.job(job_id)
        file = api.jobs.folder(job.id) / name
        if name not in job.files or not file.is_file():
            raise RequestError("no such file in this render", 404)
        return FileResponse(file, filename=name)

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def serve(settings: ServeSettings) -> None:
    """Run the app with uvicorn until interrupted; prints the URL (and the token) first."""
    try:
        import uvicorn
    except ImportError:
        raise missing_extra("uvicorn (for stillcam serve)", "web") from None
    import sys

    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        settings = replace(settings, token=settings.token or secrets.token_urlsafe(24))
        print(
            f"stillcam: warning: serving on {settings.host}, reachable from other machines; every "
            "request must carry the access token below",
            file=sys.stderr,
        )
    app = create_app(settings)
    query = f"?token={settings.token}" if settings.token else ""
    print(f"stillcam serve: http://{settings.host}:{settings.port}/{query}", flush=True)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        app.state.api.shutdown()
