"""The API fuzzed from its own OpenAPI schema with schemathesis (issue 15): for every operation,
valid and invalid requests generated from the schema never get a 5xx answer; and previews with
a few typed options at a time (hypothesis), which get past the schema to the planning code.

Derandomised, offline, bounded: a fixed number of examples per operation and phase, no
database, the app driven in-process. Request bodies that name an upload id are pointed at a real
upload (a small photo with depth, and a shot file), so the options reach the planning code
instead of stopping at "no such photo". Renders are stubbed: the API is under test, not the
renderer.
"""

import io
import re
import tempfile
from pathlib import Path
from typing import Literal, get_args, get_origin

import numpy as np
import pytest
from PIL import Image

from stillcam.example.procedural import example_inputs

pytest.importorskip("fastapi", reason="extra 'web' not installed")
pytest.importorskip("schemathesis", reason="the fuzz test needs schemathesis (extra 'dev')")
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stillcam.web import server
from stillcam.web.schema import EXAMPLES, Options
from stillcam.web.server import ServeSettings, create_app

#: Examples per operation; the whole file runs in well under a minute on two cores.
PER_OPERATION = 25
_ID = re.compile(r"[0-9a-f]{32}")
_UPLOADS: dict[str, str] = {}


def _inputs() -> tuple[bytes, bytes]:
    picture, depth = example_inputs(64, 36)
    photo = io.BytesIO()
    Image.fromarray(np.rint(picture.pixels * 255).astype(np.uint8)).save(photo, "PNG")
    depth_file = io.BytesIO()
    np.save(depth_file, depth.z)
    return photo.getvalue(), depth_file.getvalue()


def _schema():
    """The API's schema, loaded from an app of its own (the document does not depend on the
    data folder); each test drives an app of its own with it."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(ServeSettings(data_dir=Path(folder)))
        loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
        app.state.api.shutdown()
    return loaded


schema = _schema()


@pytest.fixture
def app(tmp_path: Path, monkeypatch):
    """An app with a photo (and depth) and a shot file uploaded; renders stubbed."""

    def render(photo, depth, output, options, *, exports, on_frame):
        Path(output).write_bytes(b"video")

    monkeypatch.setattr(server, "render", render)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing here may reach for the network
    app = create_app(ServeSettings(data_dir=tmp_path, max_upload_mb=1, preview_frames=120, keep_uploads=1000))
    with TestClient(app) as client:
        photo, depth = _inputs()
        upload = client.post("/api/photos", files={"photo": ("p.png", photo), "depth": ("d.npy", depth)})
        shot = b"segments:\n  - move: orbit\n    duration: 0.5\n"
        camera = client.post("/api/cameras", files={"camera": ("shot.yaml", shot)})
        _UPLOADS.update(photo=upload.json()["id"], camera=camera.json()["id"])
    yield app
    app.state.api.shutdown()


def _point_at_uploads(case) -> None:
    """Replace well-formed upload ids in a generated body by the real uploads' ids."""
    body = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("photo"), str) and _ID.fullmatch(body["photo"]):
        body["photo"] = _UPLOADS["photo"]
    options = body.get("options")
    if isinstance(options, dict) and isinstance(options.get("camera_file"), str):
        if _ID.fullmatch(options["camera_file"]):
            options["camera_file"] = _UPLOADS["camera"]


@schema.parametrize()
@settings(
    max_examples=PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, app):
    _point_at_uploads(case)
    response = case.call(app=app)
    assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text}"


def _choices(annotation) -> list:
    """The values of a ``Literal`` option, with None for an optional one (``Literal[...] | None``)."""
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return [v for a in get_args(annotation) for v in ([None] if a is type(None) else _choices(a))]


def _option_values() -> st.SearchStrategy[dict]:
    """Up to four options, each often its default or example, else any value of its JSON type
    (huge, negative, empty text), so that requests get past the schema to the planning code."""

    def values(name: str, field) -> st.SearchStrategy:
        kind = str(field.annotation)
        if "Literal" in kind:
            anything = st.sampled_from(_choices(field.annotation))
        elif "bool" in kind:
            anything = st.booleans()
        elif "int" in kind:
            anything = st.integers(-(2**31), 2**31 - 1)
        elif "list" in kind:
            item = (
                st.floats(allow_nan=False, allow_infinity=False) if "float" in kind else st.text(max_size=20)
            )
            anything = (
                st.lists(item, min_size=3, max_size=3) if "float" in kind else st.lists(item, max_size=3)
            )
        elif "float" in kind:
            anything = st.floats(allow_nan=False, allow_infinity=False)
        else:
            anything = st.text(max_size=20)
        return st.one_of(st.sampled_from([field.default, *EXAMPLES.get(name, [])]), anything)

    fields = {n: f for n, f in Options.model_fields.items() if n != "camera_file"}
    return st.lists(st.sampled_from(sorted(fields)), max_size=4, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({n: values(n, fields[n]) for n in names})
    )


def test_typed_options_reach_the_planner_and_never_get_a_server_error(app):
    statuses: list[int] = []

    @settings(max_examples=150, derandomize=True, database=None, deadline=None)
    @given(options=_option_values())
    def check(options: dict) -> None:
        with TestClient(app, raise_server_exceptions=False) as client:
            body = {"photo": _UPLOADS["photo"], "options": {"duration": 0.25, "size": "64x36", **options}}
            response = client.post("/api/preview", json=body)
        statuses.append(response.status_code)
        assert response.status_code < 500, f"{options} -> {response.status_code}: {response.text}"

    check()
    assert statuses.count(200) > 10, statuses  # many came back with cameras, not only refusals
