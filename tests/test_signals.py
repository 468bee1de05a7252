"""Partials (issue #15): SIGTERM and SIGHUP clean up like Ctrl-C, a ``kill -9``'s partial is
removed by the next render to the same output (with a warning), and publishing is never cut
in half by a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stillcam import _signals
from stillcam.errors import OutputError
from stillcam.io import files

# Long enough (2400 frames at 64x36) that the render is still writing when the test acts.
LONG = ["--size", "64x36", "--fps", "24", "--duration", "100", "--move", "orbit", "--quiet"]
SHORT = ["--size", "64x36", "--fps", "12", "--duration", "0.25", "--move", "orbit", "--quiet"]
DEADLINE_S = 60.0


def _render(photo: Path, depth: Path, output: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "stillcam",
        "render",
        str(photo),
        "--depth",
        str(depth),
        "-o",
        str(output),
        *extra,
    ]


def _partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(files.PARTIAL_SUFFIX))


def _start_and_wait_for_frames(argv: list[str], folder: Path) -> subprocess.Popen[str]:
    """Start a render and return once its partial sequence folder holds a frame: polled, with
    the process's own exit as the pause between looks and a deadline."""
    run = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if any(any(p.iterdir()) for p in _partials(folder) if "####" in p.name):
            return run
        try:
            run.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the render ended before it wrote a frame: {run.returncode} {run.communicate()[1]}")
    run.kill()
    run.wait()
    pytest.fail("no frame was written before the deadline")


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("signum", _signals.TERMINATING, ids=lambda s: signal.Signals(s).name)
def test_sigterm_and_sighup_leave_no_partial(photo_files, out, signum):
    if signal.getsignal(signum) == signal.SIG_IGN:  # e.g. SIGHUP under nohup: the render inherits it
        pytest.skip(f"{signal.Signals(signum).name} is ignored by this process and so by the render")
    run = _start_and_wait_for_frames(_render(*photo_files, out / "s.####.png", *LONG), out)
    run.send_signal(signum)
    _, err = run.communicate(timeout=DEADLINE_S)
    assert run.returncode == 128 + signum, err  # the shell's convention: 143 for SIGTERM
    assert err.startswith("stillcam: interrupted") and err.count("\n") == 1, err
    assert list(out.iterdir()) == []


def test_a_killed_renders_partial_is_removed_by_the_next_render(photo_files, out):
    run = _start_and_wait_for_frames(_render(*photo_files, out / "s.####.png", *LONG), out)
    run.kill()
    run.communicate(timeout=DEADLINE_S)
    left = _partials(out)
    assert left and all(f"-{run.pid}-" in p.name for p in left)  # a kill -9 leaves its partials
    again = subprocess.run(_render(*photo_files, out / "s.####.png", *SHORT), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    for partial in left:
        assert f"stillcam: warning: removed {partial.name}" in again.stderr
    assert f"left by process {run.pid}, which is gone" in again.stderr
    assert _partials(out) == [] and len(list(out.glob("s.*.png"))) == 3


def _as_process(partial: Path, pid: int, host: str | None = None) -> Path:
    """``partial`` renamed as if process ``pid`` (on ``host``, a host hash) had made it."""
    name = partial.name.replace(f"-{os.getpid()}-", f"-{pid}-", 1)
    if host is not None:
        head, _, tail = name.rpartition(f"-{pid}-")
        name = f"{head[:-6]}{host}-{pid}-{tail}"
    renamed = partial.with_name(name)
    partial.rename(renamed)
    return renamed


def test_only_partials_of_that_output_whose_process_is_gone_are_removed(tmp_path, caplog):
    final = tmp_path / "shot.mp4"
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()
    stale = _as_process(files.make_partial(final), gone.pid)
    (stale / "shot.mp4").write_bytes(b"half a video")
    live = files.make_partial(final)  # this process's
    other_output = _as_process(files.make_partial(tmp_path / "other.mp4"), gone.pid)
    other_host = _as_process(files.make_partial(final), gone.pid, host="ffffff")
    with caplog.at_level("WARNING", logger="stillcam"):
        assert files.remove_stale_partials(final) == [stale]
    assert (
        f"removed {stale.name}, a partial shot.mp4 left by process {gone.pid}, which is gone" in caplog.text
    )
    assert live.is_dir() and other_output.is_dir() and other_host.is_dir() and not stale.exists()
    live.rmdir()
    with pytest.raises(OutputError, match="on another host"):
        files.check_destination(final, overwrite=False)
    files.check_destination(final, overwrite=True)


def test_a_partial_name_is_short_whatever_the_output_name(tmp_path):
    partial = files.make_partial(tmp_path / ("x" * 250 + ".mp4"))
    assert len(partial.name) < 100 and partial.name.startswith("." + "x" * 32)


@pytest.fixture()
def handlers() -> Iterator[None]:
    """The process's signal handlers, restored after the test."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, *_signals.TERMINATING)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_an_ignored_sighup_stays_ignored(handlers):
    """``nohup stillcam render ...`` keeps running when the terminal closes."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _signals.install_signal_handlers()
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    assert callable(signal.getsignal(signal.SIGTERM))


def test_signals_wait_for_a_publish_to_end(handlers, tmp_path):
    _signals.install_signal_handlers()
    done = []
    with pytest.raises(_signals.Terminated) as raised:
        with _signals.deferred_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            done.append("published")  # not cut short
    assert done == ["published"] and raised.value.signum == signal.SIGTERM


def test_a_signal_raised_inside_a_c_callback_still_exits_as_interrupted(monkeypatch, capsys):
    """SIGTERM arriving while numba loads a cached kernel reaches the CLI as a SystemError
    caused by :class:`~stillcam._signals.Terminated` (seen once in the SIGTERM test above):
    the exit status is still 143, with the usual line, and no traceback."""
    from stillcam import cli

    def interrupted_in_c(argv):
        try:
            raise _signals.Terminated(signal.SIGTERM)
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(<function _bin>) returned a result with an exception") from exc

    monkeypatch.setattr(cli, "run", interrupted_in_c)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["moves"])
    assert exit_info.value.code == 128 + signal.SIGTERM
    assert capsys.readouterr().err.strip() == "stillcam: interrupted; no partial output was kept"

    def a_bug(argv):
        raise SystemError("a real bug")

    monkeypatch.setattr(cli, "run", a_bug)
    with pytest.raises(SystemError, match="a real bug"):
        cli.main(["moves"])
