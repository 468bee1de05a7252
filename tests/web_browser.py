"""What the browser tests share: the system Chromium and its flags, the app served on a loopback
port in a thread, and example photo + depth files."""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--enable-unsafe-swiftshader",  # WebGL on the CPU (SwiftShader) with --disable-gpu
]


def live_server(folder: Path) -> Iterator[str]:
    """Serve the app with its data under ``folder`` on a free loopback port; yields its URL,
    stops it after."""
    import uvicorn

    from stillcam.web.server import ServeSettings, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(ServeSettings(data_dir=folder / "data")), host="127.0.0.1", port=port)
    config.log_level = "warning"
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if app_server.started:
            break
        time.sleep(0.05)  # waiting for a server thread to listen, not a timed assertion
    yield f"http://127.0.0.1:{port}/"
    app_server.should_exit = True
    thread.join(timeout=30)


def example_files(folder: Path, width: int, height: int) -> tuple[Path, Path]:
    """The bundled example at ``width`` x ``height`` as ``photo.png`` and ``depth.npy``."""
    from stillcam.example.procedural import example_inputs

    picture, depth = example_inputs(width, height)
    photo, depth_file = folder / "photo.png", folder / "depth.npy"
    Image.fromarray(np.rint(picture.pixels * 255).astype(np.uint8)).save(photo)
    np.save(depth_file, depth.z)
    return photo, depth_file
