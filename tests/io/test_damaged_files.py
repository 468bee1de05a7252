"""Damaged, lying and odd input files through every loader: only typed, one-line errors.

The corpus is built here, in ``tmp_path``, from small valid files of every format the loaders
take: each truncated, with flipped bytes, with headers that lie about the size; ``.npy`` maps
of every odd sample type; depth values that are NaN, infinite, negative, zero or absurd. Each
file goes through :func:`load_image` or :func:`read_depth_file` and the depth conversion of
every kind: it loads to finite values, or raises a :class:`StillcamError` whose message is
one line that names the file. Nothing a native library prints reaches the terminal.
"""

from __future__ import annotations

import io
import random
import socket
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest
from PIL import Image

from stillcam.depth.convert import DEPTH_KINDS, DepthSettings, depth_from_raw, depth_map_of_file
from stillcam.errors import DepthError, ImageError, InputError, ModelUnavailableError, StillcamError
from stillcam.io import hub, limits
from stillcam.io.depthfile import read_depth_file
from stillcam.io.image import check_image_file, load_image, picture_from_array

W, H = 24, 16


# --- the corpus -----------------------------------------------------------------------


def _rgb() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([x * 10, y * 15, (x + y) * 5], axis=-1).astype(np.uint8)


def _encode(suffix: str, array: np.ndarray, params: list[int] | None = None) -> bytes:
    ok, data = cv2.imencode(suffix, array, params or [])
    assert ok
    return data.tobytes()


def _exr(channels: dict[str, np.ndarray], compression: object = OpenEXR.ZIP_COMPRESSION) -> bytes:
    header = {"compression": compression, "type": OpenEXR.scanlineimage}
    stream = io.BytesIO()
    with OpenEXR.File(header, {k: np.ascontiguousarray(v) for k, v in channels.items()}) as file:
        file.write(stream)
    return stream.getvalue()


def _npy(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array, allow_pickle=False)
    return stream.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, *, bit_depth: int = 8, colour: int = 0) -> bytes:
    """A tiny PNG whose IHDR (CRC correct) claims ``width`` x ``height``."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 marker claims ``width`` x ``height``."""
    data = bytearray(_encode(".jpg", _rgb()))
    at = data.index(b"\xff\xc0") + 5
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


def exr_claiming(width: int, height: int) -> bytes:
    """A small EXR whose data window claims ``width`` x ``height``."""
    data = bytearray(_exr({"Z": np.ones((H, W), np.float32)}))
    key = b"dataWindow\x00box2i\x00"
    at = data.index(key) + len(key) + 4
    data[at : at + 16] = struct.pack("<4i", 0, 0, width - 1, height - 1)
    return bytes(data)


def npy_claiming(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": descr, "fortran_order": False, "shape": shape})
    return stream.getvalue() + b"\0" * 64


def photo_seeds() -> dict[str, bytes]:
    rgb = _rgb()
    return {
        "photo.jpg": _encode(".jpg", rgb[..., ::-1]),
        "photo.png": _encode(".png", rgb),
        "photo16.png": _encode(".png", rgb.astype(np.uint16) * 257),
        "photo.tif": _encode(".tif", rgb),
        "photo.webp": _encode(".webp", rgb, [cv2.IMWRITE_WEBP_QUALITY, 90]),
    }


def depth_seeds() -> dict[str, bytes]:
    z = (1.0 + np.add.outer(np.arange(H), np.arange(W)) / 10).astype(np.float32)
    return {
        "depth16.png": _encode(".png", (z * 1000).astype(np.uint16)),
        "depth8.png": _encode(".png", (z * 20).astype(np.uint8)),
        "depth.tif": _encode(".tif", z),
        "depth3.tif": _encode(".tif", np.dstack([z, z, z])),
        "depth.exr": _exr({"Z": z}),
        "depth_half.exr": _exr({"R": z.astype(np.float16)}, OpenEXR.PIZ_COMPRESSION),
        "depth_raw.exr": _exr({"depth": z}, OpenEXR.NO_COMPRESSION),
        "depth.npy": _npy(z),
        "depth64.npy": _npy(z.astype(np.float64)),
    }


def mutations(data: bytes, seed: int) -> list[tuple[str, bytes]]:
    """Truncations (the header only, halfway, one byte short), flipped bytes, a random run."""
    rng = random.Random(seed)
    out = [("empty", b""), ("head", data[:12]), ("half", data[: len(data) // 2]), ("short", data[:-1])]
    for n in range(4):
        flipped = bytearray(data)
        for _ in range(1 + n):
            at = rng.randrange(len(flipped))
            flipped[at] ^= 1 << rng.randrange(8)
        out.append((f"flip{n}", bytes(flipped)))
    junk = bytearray(data)
    at = rng.randrange(8, len(junk))
    junk[at : at + 16] = rng.randbytes(16)
    out.append(("junk", bytes(junk)))
    out.append(("doubled", data + data))
    return out


def liars(suffixes: tuple[str, ...]) -> dict[str, bytes]:
    """Files whose headers claim another size than their data holds (within the budget)."""
    every = {
        "lie_big.png": png_claiming(4 * W, 4 * H),
        "lie16.png": png_claiming(W, H, bit_depth=16),
        "lie.jpg": jpeg_claiming(3 * W, 2 * H),
        "lie_small.jpg": jpeg_claiming(W // 2, H // 2),
        "lie.exr": exr_claiming(2 * W, 2 * H),
        "lie_small.exr": exr_claiming(W // 2, H),
        "lie.npy": npy_claiming((H, W)),
        "lie3.npy": npy_claiming((H, W, 3), "<f8"),
        "lie_chunk.png": png_chunk_bomb(),
    }
    return {name: data for name, data in every.items() if name.endswith(suffixes)}


def write_corpus(folder: Path, seeds: dict[str, bytes]) -> list[Path]:
    files = []
    for number, (name, data) in enumerate(seeds.items()):
        stem, suffix = name.rsplit(".", 1)
        for label, mutated in [("ok", data), *mutations(data, number)]:
            path = folder / f"{stem}.{label}.{suffix}"
            path.write_bytes(mutated)
            files.append(path)
    return files


# --- what every outcome must be -------------------------------------------------------


def assert_one_line(exc: BaseException, path: Path) -> None:
    assert isinstance(exc, StillcamError), f"{path.name}: untyped {type(exc).__name__}: {exc}"
    message = str(exc)
    assert "\n" not in message and "\r" not in message, f"{path.name}: {message!r}"
    assert path.name in message, f"{path.name} not named in {message!r}"
    assert len(message) < 500, message


def outcome(load: Callable[[Path], object], path: Path) -> object | None:
    """``load(path)``, or None after checking the typed one-line error it raised."""
    try:
        return load(path)
    except Exception as exc:  # the checks say which kinds are allowed
        assert_one_line(exc, path)
        return None


def test_damaged_photos_give_one_typed_line(tmp_path: Path, capfd):
    loaded = 0
    corpus = write_corpus(tmp_path, photo_seeds())
    for name, data in liars((".png", ".jpg")).items():
        (tmp_path / name).write_bytes(data)
        corpus.append(tmp_path / name)
    for path in corpus:
        picture = outcome(load_image, path)
        if picture is not None:
            loaded += 1
            assert picture.pixels.dtype == np.float32 and np.isfinite(picture.pixels).all()
            assert 0.0 <= picture.pixels.min() and picture.pixels.max() <= 1.0
    assert loaded >= len(photo_seeds())  # every intact seed loads
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == "", "a library printed past the loader"


def test_damaged_depth_files_give_one_typed_line_through_the_conversion(tmp_path: Path, capfd):
    picture = picture_from_array(np.zeros((H, W, 3), np.uint8), name="photo")
    loaded = 0
    corpus = write_corpus(tmp_path, depth_seeds())
    for name, data in liars((".png", ".exr", ".npy")).items():
        (tmp_path / name).write_bytes(data)
        corpus.append(tmp_path / name)
    for path in corpus:
        raw = outcome(read_depth_file, path)
        if raw is None:
            continue
        loaded += 1
        for kind in DEPTH_KINDS:
            settings = DepthSettings(depth_kind=kind, baseline=0.1)
            depth = outcome(lambda p, r=raw, s=settings: depth_map_of_file(r, p, picture, s), path)
            if depth is not None:
                assert depth.z.shape == (H, W) and np.isfinite(depth.z).all() and depth.z.min() > 0
    assert loaded >= len(depth_seeds())
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == "", "a library printed past the loader"


# --- the cases of issue 15 ------------------------------------------------------------


def _error(load: Callable[[Path], object], path: Path, kind: type[Exception] = InputError) -> str:
    with pytest.raises(kind) as info:
        load(path)
    assert_one_line(info.value, path)
    return str(info.value)


@pytest.mark.parametrize(
    ("name", "array", "words"),
    [
        ("empty.npy", np.zeros((0, 0), np.float32), "2-D map"),
        ("line.npy", np.ones(5, np.float32), "2-D map"),
        ("zero_channels.npy", np.ones((H, W, 0), np.float32), "2-D map"),
        ("structured.npy", np.zeros((H, W), dtype=[("a", "<f4"), ("b", "<f4")]), "structured"),
        ("complex.npy", np.ones((H, W), np.complex64), "complex"),
        ("bool.npy", np.ones((H, W), bool), "bool"),
        ("text.npy", np.full((H, W), "a"), "text"),
        ("dates.npy", np.zeros((H, W), "datetime64[s]"), "not numbers"),
        ("overflow.npy", np.full((H, W), 1e300), "float32's range"),
    ],
)
def test_odd_npy_maps_are_refused(tmp_path: Path, name: str, array: np.ndarray, words: str):
    np.save(tmp_path / name, array)
    assert words in _error(read_depth_file, tmp_path / name, DepthError)


def test_object_npy_is_refused_from_its_header(tmp_path: Path):
    (tmp_path / "object.npy").write_bytes(npy_claiming((H, W), "|O"))
    assert "object" in _error(read_depth_file, tmp_path / "object.npy", DepthError)


def test_odd_but_numeric_npy_maps_load(tmp_path: Path):
    for dtype in (np.float16, np.int64, np.uint32, np.int8):
        np.save(tmp_path / "m.npy", np.full((H, W), 3, dtype))
        raw = read_depth_file(tmp_path / "m.npy")
        assert raw.values.dtype == np.float32 and (raw.values == 3).all()
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.arange(H * W, dtype=np.float32).reshape(H, W)))
    assert read_depth_file(tmp_path / "fortran.npy").values[1, 0] == W


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (3e38, "beyond 1e-06..1e+12 m"),
        (1e-9, "beyond 1e-06..1e+12 m"),
        (np.nan, "NaN/infinite"),
        (np.inf, "NaN/infinite"),
        (-1.0, "negative"),
        (0.0, "zero values"),
    ],
)
def test_absurd_depth_values_are_refused_before_any_int_cast(tmp_path: Path, value: float, words: str):
    z = np.full((H, W), 2.0, np.float32)
    z[: H // 2] = value
    np.save(tmp_path / "d.npy", z)
    raw = read_depth_file(tmp_path / "d.npy")
    with pytest.raises(DepthError) as info:
        depth_from_raw(raw, DepthSettings(), focal_px=100.0)
    assert words in str(info.value) and "d.npy" in str(info.value) and "\n" not in str(info.value)


def test_depth_values_at_the_bounds_and_blender_sky_are_kept(tmp_path: Path):
    z = np.full((H, W), 1e-6, np.float32)
    z[: H // 2] = 1e10  # Blender's Z pass writes 1e10 where there is nothing
    np.save(tmp_path / "d.npy", z)
    out = depth_from_raw(read_depth_file(tmp_path / "d.npy"), DepthSettings(), focal_px=100.0)
    assert np.isfinite(out).all() and out.max() == np.float32(1e10)


def test_huge_disparities_and_scales_are_refused(tmp_path: Path):
    np.save(tmp_path / "disp.npy", np.full((H, W), 3e38, np.float32))
    raw = read_depth_file(tmp_path / "disp.npy")
    with pytest.raises(DepthError, match="--baseline"):
        depth_from_raw(raw, DepthSettings(depth_kind="disparity", baseline=1.0), focal_px=100.0)
    with pytest.raises(DepthError, match="--depth-scale"):
        depth_from_raw(raw, DepthSettings(depth_scale=1e8), focal_px=100.0)
    remapped = depth_from_raw(raw, DepthSettings(near=1.0, far=5.0), focal_px=100.0)
    assert np.isfinite(remapped).all()


def test_an_empty_png_as_depth(tmp_path: Path):
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in _error(read_depth_file, tmp_path / "empty.png", DepthError)


def test_a_folder_is_no_photo_nor_depth(tmp_path: Path):
    (tmp_path / "dir.png").mkdir()
    assert "folder" in _error(load_image, tmp_path / "dir.png", ImageError)
    assert "folder" in _error(read_depth_file, tmp_path / "dir.png", DepthError)
    assert "no such file" in _error(check_image_file, tmp_path / "missing.jpg", ImageError)


def _forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded before the pixel budget was checked")

    monkeypatch.setattr(cv2, "imdecode", refuse)
    monkeypatch.setattr(np, "load", refuse)
    monkeypatch.setattr(OpenEXR, "File", _header_only(OpenEXR.File))


def _header_only(real: type) -> Callable[..., object]:
    def opener(*args: object, header_only: bool = False, **kwargs: object) -> object:
        if not header_only:
            raise AssertionError("EXR pixels read before the pixel budget was checked")
        return real(*args, header_only=True, **kwargs)

    return opener


@pytest.mark.parametrize(
    ("name", "data", "load"),
    [
        ("bomb.png", png_claiming(40000, 40000), read_depth_file),
        ("bomb16.png", png_claiming(24000, 13500, bit_depth=16), read_depth_file),
        ("bomb.npy", npy_claiming((100000, 100000)), read_depth_file),
        ("bomb.exr", exr_claiming(40000, 40000), read_depth_file),
        ("big.jpg", jpeg_claiming(12000, 12000), load_image),
        ("bomb.png", png_claiming(40000, 40000, colour=2), load_image),
    ],
)
def test_the_pixel_budget_is_checked_from_the_header_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes, load: Callable[[Path], object]
):
    (tmp_path / name).write_bytes(data)
    _forbid_decoding(monkeypatch)
    message = _error(load, tmp_path / name)
    assert "over stillcam's input budget of 100 MP" in message
    assert "downscale it to" in message and "STILLCAM_MAX_INPUT_MP=" in message


def test_the_budget_names_what_to_downscale_to(tmp_path: Path):
    (tmp_path / "big.jpg").write_bytes(jpeg_claiming(12000, 12000))
    message = _error(load_image, tmp_path / "big.jpg", ImageError)
    assert "12000x12000 = 144 MP" in message and "10000x10000 or less" in message
    assert "STILLCAM_MAX_INPUT_MP=144" in message and "needs ~4 GB" in message


def test_the_budget_can_be_raised_and_lowered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "p.png").write_bytes(photo_seeds()["photo.png"])
    monkeypatch.setenv(limits.MAX_INPUT_MP_ENV, "0.0001")  # 100 pixels
    assert "input budget of 0 MP" in _error(load_image, tmp_path / "p.png", ImageError)
    monkeypatch.setenv(limits.MAX_INPUT_MP_ENV, "nan")
    with pytest.raises(InputError, match="STILLCAM_MAX_INPUT_MP='nan'"):
        load_image(tmp_path / "p.png")
    monkeypatch.setenv(limits.MAX_INPUT_MP_ENV, "200")
    assert limits.input_pixel_budget() == 200_000_000
    limits.check_pixel_budget("p.png", 12000, 12000, what="photo", error=ImageError)  # fits now


def test_a_jpeg_whose_data_ends_early_is_refused(tmp_path: Path):
    (tmp_path / "lie.jpg").write_bytes(jpeg_claiming(2 * W, 2 * H))  # "premature end of data segment"
    assert "truncated" in _error(load_image, tmp_path / "lie.jpg", ImageError)


def png_chunk_bomb() -> bytes:
    """A valid IHDR, then an IDAT whose length field claims 4 GB (found by the fuzzer: OpenCV
    reserved the 4 GB before reading a byte)."""
    data = bytearray(photo_seeds()["photo.png"])
    at = data.index(b"IDAT") - 4
    data[at : at + 4] = struct.pack(">I", 0xFFFF01EB)
    return bytes(data)


@pytest.mark.parametrize("load", [load_image, read_depth_file])
def test_a_png_chunk_claiming_4_gb_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load: Callable[[Path], object]
):
    (tmp_path / "chunk.png").write_bytes(png_chunk_bomb())
    monkeypatch.setattr(cv2, "imdecode", lambda *a: pytest.fail("decoded a PNG whose chunk lies"))
    message = _error(load, tmp_path / "chunk.png")
    assert "'IDAT' chunk needs 4294902263 bytes" in message


def test_a_lying_npy_header_is_a_truncated_file(tmp_path: Path):
    (tmp_path / "lie.npy").write_bytes(npy_claiming((2000, 3000)))
    assert "truncated" in _error(read_depth_file, tmp_path / "lie.npy", DepthError)


def test_damaged_exr_is_wrapped_in_advice(tmp_path: Path, capfd):
    data = bytearray(depth_seeds()["depth.exr"])
    data[-40:] = bytes(40)  # the pixel data: "Invalid part index" from the binding
    (tmp_path / "pixels.exr").write_bytes(data)
    message = _error(read_depth_file, tmp_path / "pixels.exr", DepthError)
    assert "pixel data is damaged or truncated" in message and "re-export it" in message
    assert "Invalid part index" not in message
    (tmp_path / "header.exr").write_bytes(b"v/1\x01" + bytes(64))
    assert "header is damaged" in _error(read_depth_file, tmp_path / "header.exr", DepthError)
    assert capfd.readouterr().err == ""


def test_the_memory_estimate_refuses_before_allocating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "p.png").write_bytes(photo_seeds()["photo.png"])
    (tmp_path / "d.npy").write_bytes(depth_seeds()["depth.npy"])
    monkeypatch.setattr(limits, "available_memory", lambda: 1000)
    _forbid_decoding(monkeypatch)
    message = _error(load_image, tmp_path / "p.png", ImageError)
    assert "needs ~" in message and "1 kB is free" in message and "downscale" in message
    message = _error(read_depth_file, tmp_path / "d.npy", DepthError)
    assert "needs ~" in message and "downscale the depth map" in message


def test_snap_upsampling_checks_its_memory(monkeypatch: pytest.MonkeyPatch):
    from stillcam.depth.upsample import snap_upsample

    monkeypatch.setattr(limits, "available_memory", lambda: 10**6)
    with pytest.raises(InputError, match="--upsample bilinear") as info:
        snap_upsample(np.ones((8, 8), np.float32), np.zeros((1000, 1000, 3), np.float32))
    assert "needs ~96 MB of memory, 1 MB is free" in str(info.value)


def test_format_bytes():
    assert limits.format_bytes(7.5e9) == "7.5 GB"
    assert limits.format_bytes(320e6) == "320 MB"
    assert limits.format_bytes(12) == "12 bytes"


def test_quiet_native_captures_the_c_libraries(capfd):
    with limits.quiet_native() as said:
        import os

        os.write(2, b"libpng error: something\n")
        print("a python line")
    assert "libpng error" in said.text and "a python line" in said.text
    assert capfd.readouterr() == ("", "")


def test_damaged_exif_is_ignored_not_fatal(tmp_path: Path):
    image = Image.fromarray(_rgb())
    exif = Image.Exif()
    exif[0x0112] = 99  # orientation out of range
    exif.get_ifd(0x8769)[0xA405] = 0  # a zero focal length
    image.save(tmp_path / "exif.jpg", exif=exif.tobytes())
    picture = load_image(tmp_path / "exif.jpg")
    assert picture.focal_source == "default" and picture.width == W


# --- the model's weights: the hub, offline ----------------------------------------------


def _empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub
    import huggingface_hub.constants as constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    real = huggingface_hub.snapshot_download

    def local_only(*args: object, local_files_only: bool = False, **kwargs: object) -> str:
        assert local_files_only, "a download was tried"
        return real(*args, local_files_only=True, cache_dir=str(tmp_path / "hub"), **kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", local_only)


def test_unreachable_hub_fails_at_once_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from stillcam.depth.estimate import model_folder
    from stillcam.depth.models import get_model

    _empty_cache(monkeypatch, tmp_path)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_unreachable", lambda: "the hub (hub.test) cannot be reached (no route)")
    with pytest.raises(ModelUnavailableError) as info:
        model_folder(get_model("depth-anything-v2-small"), None)
    message = str(info.value)
    assert "cannot be reached (no route)" in message and "--depth FILE" in message and "\n" not in message


def test_offline_env_needs_no_reachability_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from stillcam.depth.estimate import model_folder
    from stillcam.depth.models import get_model

    _empty_cache(monkeypatch, tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "hub_unreachable", lambda: pytest.fail("checked the network while offline"))
    with pytest.raises(ModelUnavailableError, match="hub offline"):
        model_folder(get_model("depth-anything-v2-small"), None)


def test_hub_unreachable_tries_one_connection(monkeypatch: pytest.MonkeyPatch):
    tried = []

    def refuse(address: tuple[str, int], timeout: float) -> None:
        tried.append((address, timeout))
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    reason = hub.hub_unreachable()
    assert reason is not None and "cannot be reached (Name or service not known)" in reason
    assert len(tried) == 1 and tried[0][1] == hub.REACH_TIMEOUT_S and tried[0][0][1] == 443
    monkeypatch.setenv("https_proxy", "http://proxy.test:3128")
    tried.clear()
    assert "the proxy proxy.test" in (hub.hub_unreachable() or "")
    assert tried[0][0] == ("proxy.test", 3128)


def test_a_damaged_depth_cache_is_a_typed_error(tmp_path: Path):
    from stillcam.depth.estimate import estimate_from_cache

    file = tmp_path / "k.npy"
    file.write_bytes(b"\x93NUMPY garbage")
    file.with_suffix(".json").write_text('{"output": "relative-inverse"}')
    from stillcam.io.hashing import sha256_file

    record = {"cache": str(file), "sha256": sha256_file(file), "model": "m", "revision": "r"}
    with pytest.raises(InputError, match="is damaged") as info:
        estimate_from_cache(record)
    assert "\n" not in str(info.value)


def test_a_failing_or_malformed_plugin_is_one_typed_line():
    from stillcam.depth.estimate import _run_plugin
    from stillcam.depth.models import ModelSpec

    def spec(estimate: Callable[[np.ndarray], object]) -> ModelSpec:
        return ModelSpec(
            "fake", "x/fake", "1", "MIT", True, "relative-inverse", False, "plugin", 0.1, "fast", estimate
        )

    rgb = np.zeros((H, W, 3), np.uint8)

    def boom(_: np.ndarray) -> object:
        raise RuntimeError("CUDA out of memory\nline two")

    for estimate, words in (
        (boom, "failed: CUDA out of memory line two"),
        (lambda _: (np.ones(5), None), "shape (5,)"),
        (lambda _: "not a tuple", "failed"),
        (lambda _: (np.ones((4, 4)), "wide"), "failed"),
    ):
        with pytest.raises(StillcamError) as info:
            _run_plugin(spec(estimate), rgb)
        assert words in str(info.value) and "\n" not in str(info.value)
    raw, fov = _run_plugin(spec(lambda _: (np.ones((4, 4)), float("nan"))), rgb)
    assert raw.shape == (4, 4) and fov is None


def test_exif_focal_that_is_nan_or_text_is_no_focal(tmp_path: Path):
    from PIL import TiffImagePlugin

    for name, value in (("nan.jpg", TiffImagePlugin.IFDRational(0, 0)), ("text.jpg", "abc")):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0xA405] = value
        Image.fromarray(_rgb()).save(tmp_path / name, exif=exif.tobytes())
        picture = load_image(tmp_path / name)
        assert picture.focal_source == "default" and picture.focal_mm == 50.0


def test_an_icc_profile_that_does_not_fit_the_pixels_is_a_warning(tmp_path: Path, caplog):
    import logging

    from PIL import ImageCms

    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    Image.fromarray(_rgb()).save(tmp_path / "lab.jpg", icc_profile=lab)
    with caplog.at_level(logging.WARNING, logger="stillcam"):
        picture = load_image(tmp_path / "lab.jpg")
    assert "unusable" in picture.colour and "does not fit" in caplog.text
