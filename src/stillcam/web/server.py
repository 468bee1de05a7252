"""The local web app (``stillcam serve``, extra ``web``): the HTTP wiring, and ``_Api``, which
calls the pipeline's planning and caches per upload. FastAPI + uvicorn, a static page with a
WebGL2 viewer (:mod:`.preview` makes what it is sent),
uploads (:mod:`.uploads`), renders in a bounded worker pool with job folders on disk
(:mod:`.jobs`).

Safety: binds 127.0.0.1 unless ``--host`` says otherwise; then every API request must carry
the random access token printed at start-up (``Authorization: Bearer`` or ``?token=``). No
endpoint takes a path from the client; downloads come only from a job's own file list.
Errors: a :class:`~stillcam.errors.RequestError` answers with its status, any other
:class:`~stillcam.errors.InputError` with 400, other stillcam errors with 500.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, which name
# types imported inside the functions (fastapi is an optional extra, imported lazily).

import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import InputError, RequestError, StillcamError, missing_extra
from ..export.gltf import texture_jpeg
from ..options import RenderOptions, command_line
from ..output.codecs import VIDEO_CODECS
from ..pipeline import load_inputs, plan_cameras, render
from .jobs import JobStore
from .preview import camera_records, info, mesh_bytes, preview_inputs, preview_reach, preview_scene
from .uploads import Uploads

STATIC = Path(__file__).with_name("static")


@dataclass(frozen=True)
class ServeSettings:
    """How ``stillcam serve`` runs."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: float = 200.0
    workers: int = 1
    token: str | None = None


def _options(flat: Any) -> RenderOptions:
    """The request's flat options; unknown names and bad values are refused (400)."""
    if not isinstance(flat, dict):
        raise RequestError("options must be an object of option names and values")
    try:
        return RenderOptions.from_fields(flat)
    except (TypeError, ValueError) as exc:
        raise RequestError(f"bad options: {exc}") from None


def _output_name(codec: str) -> str:
    spec = VIDEO_CODECS.get(codec)
    if spec is None:
        raise RequestError(f"unknown codec {codec!r}")
    return "shot" + spec.suffixes[0]


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


class _Api:
    """What the endpoints do, apart from HTTP: the pipeline's planning and :mod:`.preview`."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.uploads = Uploads(settings.data_dir / "uploads")
        self.jobs = JobStore(settings.data_dir / "jobs", workers=settings.workers)
        self.limit = int(settings.max_upload_mb * 2**20)

    def inputs(self, upload_id: str, options: RenderOptions):
        """(cache key, picture, depth map, original file names) of an upload, decoded once."""
        photo, depth, names = self.uploads.files(upload_id)
        key = _key(upload_id, options.to_dict()["depth"], options.shot.focal_mm, options.shot.fov)
        picture, depth_map = self.uploads.cached("inputs" + key, lambda: load_inputs(photo, depth, options))
        return key, picture, depth_map, names

    def preview(self, body: dict) -> dict:
        """The render's per-frame cameras as clip matrices, and the key of the preview scene."""
        options = _options(body.get("options", {}))
        inputs_key, picture, depth, names = self.inputs(str(body.get("photo", "")), options)
        _, path, safety = plan_cameras(picture, depth, options)
        small, small_depth, small_source = self.uploads.cached(
            "small" + inputs_key, lambda: preview_inputs(picture, depth)
        )
        reach = preview_reach(small_source, path.cameras, small_depth.z)
        # The scene depends on the photo, depth, scene options and reach, not on the move.
        scene_key = _key(inputs_key, options.to_dict()["scene"], reach.edge_px, reach.ring_px)
        self.uploads.cached(
            "scene" + scene_key,
            lambda: preview_scene(small, small_depth, small_source, path.cameras, options, reach),
        )
        output = _output_name(options.output.codec)
        return {
            "cameras": camera_records(path.cameras, depth.z),
            "fps": float(path.fps),
            "first_frame": path.first_frame,
            "warnings": list(safety.warnings),
            "scene": scene_key,
            "command": command_line(options, names["photo"], names["depth"], output),
        }

    def scene(self, scene_key: str):
        scene = self.uploads.cached_only("scene" + scene_key)
        if scene is None:
            raise RequestError("no such preview scene; ask /api/preview again", 404)
        return scene

    def start_render(self, body: dict) -> dict:
        options = _options(body.get("options", {}))
        photo, depth, names = self.uploads.files(str(body.get("photo", "")))
        output = _output_name(options.output.codec)
        if self.jobs.busy():
            raise RequestError("busy: too many renders queued; wait for one to finish", 429)

        def run(folder: Path, on_frame) -> None:
            render(photo, depth, folder / output, options, exports=[folder / "shot.glb"], on_frame=on_frame)

        command = command_line(options, names["photo"], names["depth"], output)
        request = {"photo": body.get("photo"), "options": body.get("options", {})}
        return self.jobs.submit(request, command, run).to_dict()

    def job(self, job_id: str):
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError("no such render", 404)
        return job

    def token_ok(self, headers, query) -> bool:
        if not self.settings.token:
            return True
        header = headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else query.get("token", "")
        return secrets.compare_digest(given, self.settings.token)


def create_app(settings: ServeSettings):
    """The FastAPI application (also what the API tests drive)."""
    try:
        from fastapi import FastAPI
    except ImportError:
        raise missing_extra("fastapi (for stillcam serve)", "web") from None
    api = _Api(settings)
    app = FastAPI(
        title="stillcam", version=__version__, description="Photo to 3D camera move: the local app's API."
    )
    app.state.jobs = api.jobs
    _add_guards(app, api)
    _add_scene_routes(app, api)
    _add_render_routes(app, api)
    return app


def _add_guards(app, api: _Api) -> None:
    from fastapi import Request
    from fastapi.responses import JSONResponse

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if request.url.path.startswith("/api") and not api.token_ok(request.headers, request.query_params):
            return JSONResponse({"detail": "missing or wrong access token"}, status_code=401)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > api.limit + 2**20:
            detail = f"upload over the {api.settings.max_upload_mb:g} MB limit (--max-upload-mb)"
            return JSONResponse({"detail": detail}, status_code=413)
        return await call_next(request)

    @app.exception_handler(StillcamError)
    async def stillcam_error(request: Request, exc: StillcamError):
        status = exc.status if isinstance(exc, RequestError) else 400 if isinstance(exc, InputError) else 500
        return JSONResponse({"detail": str(exc)}, status_code=status)


def _add_scene_routes(app, api: _Api) -> None:
    from typing import Annotated

    from fastapi import File, UploadFile
    from fastapi.responses import Response

    async def read(upload: UploadFile, what: str) -> bytes:
        data = bytearray()
        while chunk := await upload.read(1 << 20):
            data += chunk
            if len(data) > api.limit:
                raise RequestError(
                    f"{what} is over the {api.settings.max_upload_mb:g} MB limit (--max-upload-mb)", 413
                )
        if not data:
            raise RequestError(f"{what} is empty")
        return bytes(data)

    @app.get("/api/info")
    def get_info() -> dict:
        """Moves (with parameters and units), depth models (with licences), codecs, sizes, defaults."""
        return info()

    @app.post("/api/photos")
    async def upload(
        photo: Annotated[UploadFile, File()], depth: Annotated[UploadFile | None, File()] = None
    ) -> dict:
        """Upload a photo and, optionally, its depth file (multipart); returns the photo's id."""
        photo_bytes = await read(photo, "photo")
        depth_bytes = await read(depth, "depth file") if depth is not None and depth.filename else None
        depth_name = depth.filename if depth is not None else None
        return api.uploads.save(photo_bytes, depth_bytes, photo.filename or "photo", depth_name)

    @app.post("/api/preview")
    def preview(body: dict) -> dict:
        """Per-frame clip matrices of the shot (the render's cameras) and the preview scene's id."""
        return api.preview(body)

    @app.get("/api/scenes/{scene_key}/mesh.bin")
    def mesh(scene_key: str) -> Response:
        """The preview mesh (see :func:`mesh_bytes`)."""
        return Response(mesh_bytes(api.scene(scene_key)), media_type="application/octet-stream")

    @app.get("/api/scenes/{scene_key}/texture.jpg")
    def texture(scene_key: str) -> Response:
        """The preview scene's texture atlas."""
        jpeg, _ = texture_jpeg(api.scene(scene_key).texture)
        return Response(jpeg, media_type="image/jpeg")


def _add_render_routes(app, api: _Api) -> None:
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    @app.post("/api/renders")
    def start_render(body: dict) -> dict:
        """Queue the final render (video, recipe and a .glb export) of the shot."""
        return api.start_render(body)

    @app.get("/api/renders")
    def list_renders() -> list[dict]:
        """Every render in this server's data folder, newest first."""
        return [job.to_dict() for job in api.jobs.all()]

    @app.get("/api/renders/{job_id}")
    def get_render(job_id: str) -> dict:
        """A render's state, progress, files and equivalent command line."""
        return api.job(job_id).to_dict()

    @app.get("/api/renders/{job_id}/files/{name}")
    def download(job_id: str, name: str) -> FileResponse:
        """One of a finished render's files (only names in its file list)."""
        job = api.job(job_id)
        if name not in job.files:
            raise RequestError("no such file in this render", 404)
        return FileResponse(api.jobs.folder(job.id) / name, filename=name)

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
        app.state.jobs.shutdown()
