"""The local web app (``stillcam serve``, extra ``web``): FastAPI + uvicorn, a static page with a
WebGL2 viewer, renders in a bounded worker pool with job folders on disk (:mod:`.jobs`).

One source of truth for the camera: the page never computes a camera. ``POST /api/preview``
returns, per frame, the 4x4 clip matrix the viewer draws with, computed here from the same
:func:`stillcam.pipeline.plan_cameras` cameras the render uses (:func:`clip_matrix`); the
preview scene is the render's scene built from the photo scaled to at most PREVIEW_PX.

Safety: binds 127.0.0.1 unless ``--host`` says otherwise; then every API request must carry
the random access token printed at start-up (``Authorization: Bearer`` or ``?token=``). Uploads
are limited in size, sniffed (photos must decode completely with Pillow, whose
decompression-bomb limit stays on; depth files must start like EXR, PNG, TIFF or .npy), and
stored under names the server chooses; no endpoint takes a path from the client; downloads
come only from a job's own file list.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, which name
# types imported inside the functions (fastapi is an optional extra, imported lazily).

import hashlib
import io
import json
import math
import secrets
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..camera.camera import Camera
from ..errors import InputError, StillcamError, missing_extra
from ..io.files import write_bytes_atomic, write_text_atomic
from .jobs import JobStore

#: Long side of the photo the preview scene is built from (the browser's mesh and texture).
PREVIEW_PX = 1280
#: Vertices of the preview mesh, about (a few MB to send; instant to draw).
PREVIEW_VERTICES = 100_000
STATIC = Path(__file__).with_name("static")
_DEPTH_MAGIC = {
    b"\x76\x2f\x31\x01": ".exr",
    b"\x89PNG": ".png",
    b"II*\x00": ".tif",
    b"MM\x00*": ".tif",
    b"\x93NUM": ".npy",
}
_PHOTO_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}


@dataclass(frozen=True)
class ServeSettings:
    """How ``stillcam serve`` runs."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: float = 200.0
    workers: int = 1
    token: str | None = None


def clip_matrix(camera: Camera, near: float, far: float) -> np.ndarray:
    """4x4 world -> WebGL clip space for ``camera`` (column vectors): pixel centres, principal
    point and focal lengths exactly as :func:`stillcam.render.frame.project_vertices`, depth
    mapped [near, far] -> [-1, 1]. Resolution-independent: any canvas of the camera's aspect."""
    w, h = camera.width, camera.height
    projection = np.array(
        [
            [2 * camera.fx / w, 0.0, 2 * (camera.cx + 0.5) / w - 1, 0.0],
            [0.0, -2 * camera.fy / h, 1 - 2 * (camera.cy + 0.5) / h, 0.0],
            [0.0, 0.0, (far + near) / (far - near), -2 * far * near / (far - near)],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )
    return projection @ np.linalg.inv(camera.pose)


def _http_error(status: int, message: str):
    from fastapi import HTTPException

    return HTTPException(status_code=status, detail=message)


class _Uploads:
    """Uploaded photos (and depth files) under ``<data>/uploads/<id>/``, with a small cache of
    decoded inputs and preview scenes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def save(self, photo: bytes, depth: bytes | None, photo_name: str, depth_name: str | None) -> dict:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                with Image.open(io.BytesIO(photo)) as image:
                    kind, size = image.format, image.size
                    image.load()  # decodes everything: truncated files fail here
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise _http_error(413, f"photo too large to decode safely: {exc}") from None
            except Exception:
                raise _http_error(415, "the photo is not an image, or it is damaged or truncated") from None
        if kind not in _PHOTO_SUFFIX:
            raise _http_error(415, f"photo format {kind} is not supported; send JPEG, PNG, TIFF or WebP")
        depth_suffix = None
        if depth is not None:
            depth_suffix = _DEPTH_MAGIC.get(depth[:4])
            if depth_suffix is None:
                raise _http_error(415, "the depth file is not EXR, PNG, TIFF or .npy")
        upload_id = secrets.token_hex(16)
        folder = self.root / upload_id
        folder.mkdir()
        write_bytes_atomic(folder / f"photo{_PHOTO_SUFFIX[kind]}", photo, "uploaded photo")
        if depth is not None:
            write_bytes_atomic(folder / f"depth{depth_suffix}", depth, "uploaded depth file")
        names = {
            "photo": Path(photo_name or "photo").name,
            "depth": Path(depth_name).name if depth_name else None,
        }
        write_text_atomic(folder / "names.json", json.dumps(names), "upload record")
        return {"id": upload_id, "width": size[0], "height": size[1], "has_depth": depth is not None}

    def files(self, upload_id: str) -> tuple[Path, Path | None, dict]:
        if not (len(upload_id) == 32 and all(c in "0123456789abcdef" for c in upload_id)):
            raise _http_error(404, "no such photo")
        folder = self.root / upload_id
        if not folder.is_dir():
            raise _http_error(404, "no such photo; upload it again")
        photo = next(folder.glob("photo.*"))
        depth = next(folder.glob("depth.*"), None)
        return photo, depth, json.loads((folder / "names.json").read_text())

    def cached_only(self, key: str) -> Any:
        with self._lock:
            return self._cache.get(key)

    def cached(self, key: str, make) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = make()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > 6:
                self._cache.popitem(last=False)
        return value


def _options(flat: dict[str, Any]):
    """The request's flat options; unknown names are refused by ``from_fields`` (InputError:
    400 through the app's handler)."""
    from ..options import RenderOptions

    try:
        return RenderOptions.from_fields(flat)
    except (TypeError, ValueError) as exc:
        raise _http_error(400, f"bad options: {exc}") from None


def _output_name(codec: str) -> str:
    from ..output.codecs import VIDEO_CODECS

    spec = VIDEO_CODECS.get(codec)
    if spec is None:
        raise _http_error(400, f"unknown codec {codec!r}")
    return "shot" + spec.suffixes[0]


def info() -> dict[str, Any]:
    """What the page's menus offer: moves with their parameters, models, codecs, sizes, defaults."""
    from ..camera.moves import MOVES
    from ..camera.plan import SIZES
    from ..depth.models import model_table
    from ..options import SECTIONS
    from ..output.codecs import CODECS

    moves = [
        {
            "name": spec.name,
            "summary": spec.summary,
            "params": [
                {"name": p.name, "unit": p.unit, "default": p.default, "help": p.help} for p in spec.params
            ],
        }
        for spec in MOVES.values()
    ]
    defaults = {}
    for section in SECTIONS.values():
        for f in fields(section):
            value = f.default
            defaults[f.name] = list(value) if isinstance(value, tuple) else value
    return {
        "version": __version__,
        "moves": moves,
        "models": model_table(),
        "codecs": list(CODECS),
        "sizes": ["source", *SIZES],
        "defaults": defaults,
    }


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _preview_inputs(picture, depth):
    """The photo scaled to at most PREVIEW_PX, its depth and camera
    (:func:`~stillcam.pipeline.downscaled`: the same view of the same metric world)."""
    from ..scene.plan import downscaled

    scale = min(1.0, PREVIEW_PX / max(picture.width, picture.height))
    w, h = max(2, round(picture.width * scale)), max(2, round(picture.height * scale))
    return downscaled(
        picture, depth, Camera.from_focal_mm(picture.width, picture.height, picture.focal_mm), w, h
    )


def _preview_reach(source: Camera, cameras, z: np.ndarray):
    """The cameras' reach rounded up (edge gaps to 8 px, the ring to 32 px of the preview
    photo), so that small changes to the move reuse the scene already built."""
    from ..scene.layers import Reach, reach_of

    reach = reach_of(source, cameras, z)
    return Reach(edge_px=8.0 * math.ceil(reach.edge_px / 8.0), ring_px=32.0 * math.ceil(reach.ring_px / 32.0))


def _preview_scene(small, small_depth, small_source, cameras, options, reach):
    """The render's scene from the preview photo, with about PREVIEW_VERTICES vertices."""
    from ..scene.plan import scene_for

    stride = max(1, math.ceil(math.sqrt(small.width * small.height / PREVIEW_VERTICES)))
    options = replace(options, scene=replace(options.scene, stride=stride))
    return scene_for(small, small_depth, small_source, cameras, options.scene, reach=reach)


def mesh_bytes(scene) -> bytes:
    """The viewer's mesh: uint32 vertex count, uint32 index count, float32 xyz (world,
    OpenCV axes, metres), float32 uv (0..1, v down), uint32 indices; little-endian."""
    th, tw = scene.texture.shape[:2]
    uv = ((scene.uvs + 0.5) / np.array([tw, th], np.float32)).astype("<f4")
    head = np.array([len(scene.vertices), scene.triangles.size], "<u4").tobytes()
    return (
        head + scene.vertices.astype("<f4").tobytes() + uv.tobytes() + scene.triangles.astype("<u4").tobytes()
    )


class _Api:
    """What the endpoints do, apart from HTTP."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.uploads = _Uploads(settings.data_dir / "uploads")
        self.jobs = JobStore(settings.data_dir / "jobs", workers=settings.workers)
        self.limit = int(settings.max_upload_mb * 2**20)

    def inputs(self, upload_id: str, options):
        """(cache key, picture, depth map, original file names) of an upload, decoded once."""
        from ..pipeline import load_inputs

        photo, depth, names = self.uploads.files(upload_id)
        key = _key(upload_id, options.to_dict()["depth"], options.shot.focal_mm, options.shot.fov)
        picture, depth_map = self.uploads.cached("inputs" + key, lambda: load_inputs(photo, depth, options))
        return key, picture, depth_map, names

    def preview(self, body: dict) -> dict:
        from ..options import command_line
        from ..pipeline import plan_cameras

        upload_id = str(body.get("photo", ""))
        options = _options(body.get("options", {}))
        inputs_key, picture, depth, names = self.inputs(upload_id, options)
        _, path, safety = plan_cameras(picture, depth, options)
        near = max(1e-3, 0.5 * float(depth.z.min()))
        far = max(near * 10, 50.0 * float(np.percentile(depth.z, 99)))
        small, small_depth, small_source = self.uploads.cached(
            "small" + inputs_key, lambda: _preview_inputs(picture, depth)
        )
        reach = _preview_reach(small_source, path.cameras, small_depth.z)
        # The scene depends on the photo, depth, scene options and reach, not on the move.
        scene_key = _key(inputs_key, options.to_dict()["scene"], reach.edge_px, reach.ring_px)
        self.uploads.cached(
            "scene" + scene_key,
            lambda: _preview_scene(small, small_depth, small_source, path.cameras, options, reach),
        )
        cameras = [
            {"clip": clip_matrix(c, near, far).T.ravel().tolist(), "width": c.width, "height": c.height}
            for c in path.cameras
        ]
        output = _output_name(options.output.codec)
        return {
            "cameras": cameras,
            "fps": float(path.fps),
            "first_frame": path.first_frame,
            "warnings": list(safety.warnings),
            "scene": scene_key,
            "command": command_line(options, names["photo"], names["depth"], output),
        }

    def scene(self, scene_key: str):
        scene = self.uploads.cached_only("scene" + scene_key)
        if scene is None:
            raise _http_error(404, "no such preview scene; ask /api/preview again")
        return scene

    def start_render(self, body: dict) -> dict:
        from ..options import command_line
        from ..pipeline import render

        options = _options(body.get("options", {}))
        photo, depth, names = self.uploads.files(str(body.get("photo", "")))
        output = _output_name(options.output.codec)
        if self.jobs.busy():
            raise _http_error(429, "busy: too many renders queued; wait for one to finish")

        def run(folder: Path, on_frame) -> None:
            render(photo, depth, folder / output, options, exports=[folder / "shot.glb"], on_frame=on_frame)

        command = command_line(options, names["photo"], names["depth"], output)
        request = {"photo": body.get("photo"), "options": body.get("options", {})}
        return self.jobs.submit(request, command, run).to_dict()

    def job(self, job_id: str):
        job = self.jobs.get(job_id)
        if job is None:
            raise _http_error(404, "no such render")
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
        return JSONResponse({"detail": str(exc)}, status_code=400 if isinstance(exc, InputError) else 500)


def _add_scene_routes(app, api: _Api) -> None:
    from typing import Annotated

    from fastapi import File, UploadFile
    from fastapi.responses import Response

    async def read(upload: UploadFile, what: str) -> bytes:
        data = bytearray()
        while chunk := await upload.read(1 << 20):
            data += chunk
            if len(data) > api.limit:
                raise _http_error(
                    413, f"{what} is over the {api.settings.max_upload_mb:g} MB limit (--max-upload-mb)"
                )
        if not data:
            raise _http_error(400, f"{what} is empty")
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
        from ..export.gltf import texture_jpeg

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
            raise _http_error(404, "no such file in this render")
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
