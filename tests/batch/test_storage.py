"""Batches on shared storage by URL (``-o URL``, inputs as URLs; :mod:`stillcam.batch.storage`).

Two fsspec filesystems: ``file://`` on tmp folders, and ``testfs://`` (``tests/fsspec_testfs.py``),
a local folder reached only through fsspec under URLs no path of this machine starts with, so
the code cannot use paths instead of the storage.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import fsspec
import pytest

import fsspec_testfs
from stillcam.batch import storage
from stillcam.batch.editorial import editorial_available
from stillcam.batch.jobs import ShotResult, run_shot
from stillcam.batch.manifest import read_manifest
from stillcam.batch.run import plan_batch, run_batch
from stillcam.cli import main
from stillcam.errors import InputError, OutputError

SMALL_FLAGS = ["--size", "64x36", "--duration", "0.25", "--fps", "12", "--encoder-threads", "1"]
SMALL = {"size": "64x36", "duration": 0.25, "fps": "12", "encoder_threads": 1}
#: The files a batch writes besides the shots' own (they name times, paths or URLs).
BATCH_FILES = {"batch.json", "batch.csv", "batch.otio"}


class Store:
    """The ``testfs://`` storage of one test: ``url(key)`` and the folder behind it (for
    looking, never given to the code under test)."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.root = root
        self.bucket = bucket

    def url(self, key: str = "") -> str:
        return f"{fsspec_testfs.PROTOCOL}://{self.bucket}/{key}".rstrip("/")

    def folder(self, key: str = "") -> Path:
        return self.root / self.bucket / key


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Store:
    """A ``testfs://`` bucket rooted in ``tmp_path/storage``, and this test's own cache folder."""
    root = tmp_path / "storage"
    (root / "bucket").mkdir(parents=True)
    monkeypatch.setitem(fsspec.config.conf, fsspec_testfs.PROTOCOL, {"root": str(root)})
    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "cache"))
    return Store(root, "bucket")


def _run(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the batch's own, by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in BATCH_FILES
    }


def _no_temporaries(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(storage.TEMP_SUFFIX) or ".partial" in p.name]


class InProcess:
    """A backend that renders each job here (the driver's logic, without a pool)."""

    def run(self, jobs, on_result, *, overwrite):
        for job in jobs:
            on_result(run_shot(job, overwrite=overwrite))


def _shots(
    write_yaml, file: Path, photo: str = "in/a.png", depth: str = "in/depth.npy", b: str = "in/b.png"
) -> Path:
    """Two shots: A (a video and a ``.chan`` export), B (a PNG sequence in a folder)."""
    shots = [
        {"name": "A", "photo": photo, "exports": ["{shot}_v{version:03d}.chan"]},
        {"name": "B", "photo": b, "output": "seq/{shot}_v{version:03d}.####.png", "move": "pan"},
    ]
    return write_yaml(file, shots, {"depth": depth, "move": "orbit"})


# -- the batch to a URL, end to end (the local pool's worker processes) -------------------------


def test_a_batch_to_a_url_gives_the_bytes_of_a_batch_to_a_folder(tmp_path, stills, store, write_yaml, capsys):
    path = _shots(write_yaml, tmp_path / "shots.yaml")
    folder = tmp_path / "renders"
    for out in (str(folder), store.url("renders"), (tmp_path / "plain").as_uri()):
        code, err = _run(["batch", str(path), "-o", out, "--workers", "2", "--quiet", *SMALL_FLAGS], capsys)
        assert code == 0, err
    reference = _files(folder)
    assert {"A_v001.mp4", "A_v001.recipe.json", "A_v001.chan", "seq/B_v001.1001.png"} <= set(reference)
    assert _files(store.folder("renders")) == reference
    assert _files(tmp_path / "plain") == reference
    assert _no_temporaries(store.folder("renders"))
    assert err.strip().endswith(f"manifest {(tmp_path / 'plain').as_uri()}/batch.json")
    manifest = read_manifest(storage.remote(store.url("renders")))
    assert [s["status"] for s in manifest["shots"]] == ["done", "done"]
    assert manifest["shots"][0]["outputs"] == [
        store.url("renders/A_v001.mp4"),
        store.url("renders/A_v001.chan"),
    ]
    assert manifest["shots"][0]["recipe"] == store.url("renders/A_v001.recipe.json")
    assert (store.folder("renders") / "batch.csv").read_text().startswith("name,status,")
    if editorial_available():  # the timeline too, its media relative to it
        timeline = json.loads((store.folder("renders") / "batch.otio").read_text())
        clips = timeline["tracks"]["children"][0]["children"]
        assert clips[0]["media_references"]["DEFAULT_MEDIA"]["target_url"] == "A_v001.mp4"
        assert clips[1]["media_references"]["DEFAULT_MEDIA"]["target_url_base"] == "seq/"


def test_versions_advance_against_what_is_on_the_url_and_resume_skips_what_is_done(
    tmp_path, stills, store, write_yaml
):
    path = _shots(write_yaml, tmp_path / "shots.yaml")
    out = store.url("renders")
    first = run_batch(plan_batch(path, out, SMALL), InProcess())
    assert [r.status for r in first.shots] == ["done", "done"]
    again = run_batch(plan_batch(path, out, SMALL), InProcess())
    assert [r.version for r in again.shots] == [2, 2]
    assert again.shots[0].note == f"v1 taken ({store.url('renders/A_v001.mp4')} exists); rendered as v2"
    assert (store.folder("renders") / "seq" / "B_v002.1003.png").is_file()
    files = _files(store.folder("renders"))
    resumed = plan_batch(path, out, SMALL, resume=True)
    assert [s.skip for s in resumed.shots] == [True, True]
    assert [s.job.version for s in resumed.shots] == [1, 1]  # the first done version
    manifest = run_batch(resumed, InProcess())
    assert [r.status for r in manifest.shots] == ["skipped", "skipped"]
    assert manifest.shots[0].outputs == (store.url("renders/A_v001.mp4"), store.url("renders/A_v001.chan"))
    assert _files(store.folder("renders")) == files  # nothing rendered again
    (store.folder("renders") / "A_v001.chan").unlink()  # v1 incomplete: v2 is the one done
    resumed = plan_batch(path, out, SMALL, resume=True)
    assert [(s.skip, s.job.version) for s in resumed.shots] == [(True, 2), (True, 1)]
    (store.folder("renders") / "A_v002.recipe.json").unlink()  # and v2: A is rendered again, as v3
    resumed = plan_batch(path, out, SMALL, resume=True)
    assert [(s.skip, s.job.version) for s in resumed.shots] == [(False, 3), (True, 1)]


def test_a_photo_and_a_depth_on_a_url_render_as_from_paths(tmp_path, stills, store, write_yaml, capsys):
    (store.folder() / "in").mkdir()
    for name in ("a.png", "depth.npy"):
        (store.folder("in") / name).write_bytes((stills.folder / name).read_bytes())
    path = _shots(
        write_yaml, tmp_path / "shots.yaml", photo=store.url("in/a.png"), depth=store.url("in/depth.npy")
    )
    out = store.url("renders")
    code, err = _run(["batch", str(path), "-o", out, "--workers", "1", "--quiet", *SMALL_FLAGS], capsys)
    assert code == 0, err
    local = _shots(write_yaml, tmp_path / "local.yaml", str(stills.a), str(stills.depth))  # by path
    done = run_batch(plan_batch(local, tmp_path / "here", SMALL), InProcess())
    assert [r.status for r in done.shots] == ["done", "done"]
    rendered, reference = _files(store.folder("renders")), _files(tmp_path / "here")
    assert rendered.keys() == reference.keys()
    assert all(rendered[k] == reference[k] for k in rendered if "recipe" not in k)
    recipe = json.loads(rendered["A_v001.recipe.json"])  # the inputs as the render saw them: cached
    cache = (tmp_path / "cache" / storage.INPUTS_CACHE).resolve()
    assert Path(recipe["inputs"]["photo"]["path"]).is_relative_to(cache)
    by_path = json.loads(reference["A_v001.recipe.json"])
    assert recipe["inputs"]["photo"]["sha256"] == by_path["inputs"]["photo"]["sha256"]
    assert recipe["options"] == by_path["options"]
    resumed = plan_batch(path, out, SMALL, resume=True)  # the same cached copies: done before
    assert [s.skip for s in resumed.shots] == [True, True]
    (store.folder("in") / "a.png").write_bytes((stills.folder / "b.png").read_bytes())  # changed
    storage._FETCHED.clear()  # a new command: its own process
    assert [s.skip for s in plan_batch(path, out, SMALL, resume=True).shots] == [False, True]


def test_a_shot_file_on_a_url_is_read(tmp_path, stills, store, write_yaml):
    (store.folder() / "cams").mkdir()
    shot_file = {"stillcam_shot": 1, "fps": 12, "segments": [{"move": "pan", "params": {"degrees": 4}}]}
    (store.folder("cams") / "a.yaml").write_text(json.dumps(shot_file))
    shots = [{"name": "A", "photo": "in/a.png", "shot_file": store.url("cams/a.yaml")}]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy"})
    manifest = run_batch(plan_batch(path, tmp_path / "out", SMALL), InProcess())
    assert manifest.shots[0].status == "done", manifest.shots[0].error
    assert manifest.shots[0].frames == 3


# -- problems found before any work ---------------------------------------------------------------


def test_a_missing_url_photo_is_reported_by_the_validation(tmp_path, stills, store, write_csv, capsys):
    rows = [
        ["name", "photo", "depth"],
        ["A", "in/a.png", "in/depth.npy"],
        ["B", store.url("in/missing.png"), "in/depth.npy"],
        ["C", "nosuchfs://b/c.png", "in/depth.npy"],
    ]
    path = write_csv(tmp_path / "shots.csv", rows)
    code, err = _run(["batch", str(path), "-o", store.url("renders"), *SMALL_FLAGS], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert f"stillcam: error: {path} row 3 (B): photo {store.url('in/missing.png')}: no such file" in lines
    assert any(
        f"{path} row 4 (C): photo nosuchfs://b/c.png: unknown protocol nosuchfs://" in line for line in lines
    )
    assert lines[-1].endswith("2 problems; nothing was rendered")
    assert not store.folder("renders").exists()


def test_an_unknown_protocol_gives_one_line_with_the_hint(tmp_path, stills, write_yaml, capsys):
    path = _shots(write_yaml, tmp_path / "shots.yaml")
    code, err = _run(["batch", str(path), "-o", "nosuchfs://bucket/renders", *SMALL_FLAGS], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("stillcam: error: -o nosuchfs://bucket/renders: unknown protocol nosuchfs://;")
    assert "s3fs" in err
    try:
        import s3fs  # noqa: F401
    except ImportError:
        code, err = _run(["batch", str(path), "-o", "s3://bucket/renders", *SMALL_FLAGS], capsys)
        assert code == 2 and err.count("\n") == 1
        assert err.strip().endswith("pip install s3fs"), err


def test_a_template_that_leaves_the_url_is_refused(tmp_path, stills, store, write_yaml):
    shots = [{"name": "A", "photo": "in/a.png", "output": "../{shot}_v{version:03d}.mp4"}]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy"})
    with pytest.raises(InputError, match="stays inside it"):
        plan_batch(path, store.url("renders"), SMALL)


# -- uploads: all or nothing ----------------------------------------------------------------------


def test_a_failed_upload_leaves_nothing_under_a_temporary_name(
    tmp_path, stills, store, write_yaml, monkeypatch
):
    path = _shots(write_yaml, tmp_path / "shots.yaml")
    plan = plan_batch(path, store.url("renders"), SMALL)
    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(staging))
    moved = []
    # the filesystem class the job holds (the one registered for testfs:// when it was planned)
    fs_class = type(plan.shots[0].job.store.fs)
    real_mv = fs_class.mv

    def mv_then_fail(self, path1, path2, **kwargs):  # the second move of a shot fails
        if len(moved) == 1:
            raise OSError(28, "No space left on device")
        moved.append(path2)
        return real_mv(self, path1, path2, **kwargs)

    monkeypatch.setattr(fs_class, "mv", mv_then_fail)
    result = run_shot(plan.shots[0].job)
    assert result.status == "failed"
    assert "upload failed" in result.error and "No space left" in result.error
    assert [p for p in store.folder().rglob("*") if p.is_file()] == []  # no temporary, nor the file moved
    assert list(staging.iterdir()) == []  # the staging folder removed
    monkeypatch.setattr(fs_class, "mv", real_mv)
    assert run_shot(plan.shots[0].job).status == "done"  # the retry finds the names free
    files = _files(store.folder())
    (store.folder("renders") / "A_v001.recipe.json").unlink()  # as a killed attempt leaves them
    assert run_shot(plan.shots[0].job).status == "done"  # its retry: the same bytes, completed
    assert _files(store.folder()) == files


def test_publish_refuses_an_existing_name_and_replaces_it_with_overwrite(tmp_path, store):
    local = tmp_path / "a.txt"
    local.write_text("new")
    target = storage.remote(store.url("x/a.txt"))
    store.folder("x").mkdir()
    (store.folder("x") / "a.txt").write_text("old")
    with pytest.raises(OutputError, match="exists"):
        storage.publish([(local, target)], overwrite=False)
    assert (store.folder("x") / "a.txt").read_text() == "old"
    same = tmp_path / "same.txt"
    same.write_text("old")
    storage.publish([(same, target)], overwrite=False)  # the same bytes there: left as it is
    storage.publish([(local, target)], overwrite=True)
    assert (store.folder("x") / "a.txt").read_text() == "new"
    storage.write_bytes(target, b"text", "a test file")
    assert storage.read_bytes(target, max_bytes=10, what="file") == b"text"
    assert _no_temporaries(store.folder())


def test_fetch_keeps_one_copy_per_version(tmp_path, store):
    store.folder("in").mkdir()
    (store.folder("in") / "a.png").write_bytes(b"one")
    target = storage.remote(store.url("in/a.png"))
    first = storage.fetch(target)
    assert first.read_bytes() == b"one" and first.name == "a.png"
    assert first.is_relative_to((tmp_path / "cache" / storage.INPUTS_CACHE).resolve())
    storage._FETCHED.clear()  # another process
    assert storage.fetch(target) == first
    (store.folder("in") / "a.png").write_bytes(b"two!")
    storage._FETCHED.clear()
    second = storage.fetch(target)
    assert second != first and second.read_bytes() == b"two!"
    with pytest.raises(InputError, match="no such file"):
        storage.fetch(storage.remote(store.url("in/none.png")), "photo")


class Reports:
    """A backend that renders nothing: it reports each job as failed, then raises ``then``."""

    def __init__(self, then: BaseException | None = None) -> None:
        self.then = then

    def run(self, jobs, on_result, *, overwrite):
        for job in jobs:
            on_result(ShotResult(job.name, "failed", error="not rendered"))
        if self.then is not None:
            raise self.then


def test_the_manifest_on_a_url_is_uploaded_at_most_every_few_seconds(
    tmp_path, stills, store, write_yaml, monkeypatch
):
    from stillcam.batch import run

    path = _shots(write_yaml, tmp_path / "shots.yaml")
    uploads = []
    real = storage.write_bytes
    monkeypatch.setattr(storage, "write_bytes", lambda t, d, w: uploads.append(t.name) or real(t, d, w))
    monkeypatch.setattr(run, "STORAGE_MANIFEST_INTERVAL_S", 3600.0)
    run_batch(plan_batch(path, store.url("renders"), SMALL), Reports())
    assert uploads == ["batch.json", "batch.csv"] * 2  # when it starts and when it ends
    uploads.clear()
    with pytest.raises(KeyboardInterrupt):  # interrupted: what finished is uploaded once more
        run_batch(plan_batch(path, store.url("again"), SMALL), Reports(KeyboardInterrupt()))
    assert uploads == ["batch.json", "batch.csv"] * 2
    assert [s["status"] for s in read_manifest(storage.remote(store.url("again")))["shots"]] == ["failed"] * 2
    uploads.clear()
    monkeypatch.setattr(run, "STORAGE_MANIFEST_INTERVAL_S", 0.0)  # after every shot
    run_batch(plan_batch(path, store.url("more"), SMALL), Reports())
    assert uploads == ["batch.json", "batch.csv"] * 4
    assert _no_temporaries(store.folder())


def test_memory_estimates_read_the_header_of_a_photo_on_a_url(stills, store):
    from stillcam.batch.jobs import ShotJob
    from stillcam.batch.local import footprint
    from stillcam.batch.ray_backend import shot_memory
    from stillcam.options import RenderOptions

    store.folder("in").mkdir()
    (store.folder("in") / "a.png").write_bytes(stills.a.read_bytes())
    by_path = ShotJob("A", stills.a, None, RenderOptions(), Path("A.mp4"))
    by_url = replace(by_path, photo=storage.remote(store.url("in/a.png")))
    assert storage.image_size(by_url.photo) == (64, 36)
    assert footprint(by_url) == footprint(by_path)
    assert shot_memory(by_url) == shot_memory(by_path)


# -- Ray --------------------------------------------------------------------------------------------


def test_ray_renders_a_long_shot_to_a_url_whole_and_one_with_url_inputs_in_chunks(
    tmp_path, stills, write_yaml, monkeypatch
):
    """Outputs on a URL: the long shot is one task (its manifest note says so). Inputs on URLs and
    outputs in a folder: chunked as usual, every chunk and encode task fetching the inputs."""
    ray = pytest.importorskip("ray")
    from stillcam.batch.ray_backend import RayBackend

    monkeypatch.setenv("STILLCAM_CACHE_DIR", str(tmp_path / "cache"))
    shots = [{"name": "A", "photo": "in/a.png", "duration": 1.0}, {"name": "B", "photo": "in/b.png"}]
    path = write_yaml(tmp_path / "shots.yaml", shots, {"depth": "in/depth.npy", "move": "orbit"})
    by_url = [{"name": "A", "photo": stills.a.as_uri(), "duration": 1.0}]
    url_inputs = write_yaml(
        tmp_path / "by-url.yaml", by_url, {"depth": stills.depth.as_uri(), "move": "orbit"}
    )
    chunked = plan_batch(url_inputs, tmp_path / "chunked", SMALL)
    (tmp_path / "chunked").mkdir()
    results: list[ShotResult] = []
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False)
    try:
        manifest = run_batch(
            plan_batch(path, (tmp_path / "storage").as_uri(), SMALL), RayBackend(chunk_frames=4)
        )
        RayBackend(chunk_frames=4).run(chunked.jobs, results.append, overwrite=False)
    finally:
        if started:
            ray.shutdown()
    assert [r.status for r in manifest.shots] == ["done", "done"], [r.error for r in manifest.shots]
    assert manifest.shots[0].note == "rendered whole, not in chunks: its outputs are on storage (-o URL)"
    assert manifest.shots[1].note == ""
    reference = run_batch(plan_batch(path, tmp_path / "here", SMALL), InProcess())
    assert [r.status for r in reference.shots] == ["done", "done"]
    assert _files(tmp_path / "storage") == _files(tmp_path / "here")
    assert not list((tmp_path / "storage").rglob(".stillcam-chunks"))
    assert [(r.status, r.extra.get("chunks")) for r in results] == [("done", 3)], results[0].error
    assert (tmp_path / "chunked" / "A_v001.mp4").read_bytes() == (
        tmp_path / "here" / "A_v001.mp4"
    ).read_bytes()


def test_results_name_urls(tmp_path, stills, store, write_yaml):
    path = _shots(write_yaml, tmp_path / "shots.yaml")
    job = plan_batch(path, store.url("renders"), SMALL).shots[0].job
    assert job.store is not None and not job.output.is_absolute()
    result: ShotResult = run_shot(replace(job, exports=()))
    assert result.outputs == (store.url("renders/A_v001.mp4"),)
    assert result.recipe == store.url("renders/A_v001.recipe.json")
