"""ONNX Runtime sessions as stillcam runs every graph (MoGe-2 depth, the generative fills):
on the CPU with fixed thread counts, sequential execution, deterministic kernels and no
spinning threads, so that one input gives the same output on every machine and under load.
In the io layer, below depth/ and scene/, which both load graphs (extras ``models`` and
``fill``); onnxruntime itself is imported only when a graph is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import missing_extra

#: Threads inside one operator, and between operators (fixed: results must not depend on the
#: machine's core count).
INTRA_OP_THREADS = 2
INTER_OP_THREADS = 1


def onnxruntime_module(extra: str) -> Any:
    """The onnxruntime module, or the install hint naming ``extra``.

    Raises:
        MissingExtraError: onnxruntime is not installed.
    """
    try:
        import onnxruntime
    except ImportError:
        raise missing_extra("onnxruntime", extra) from None
    return onnxruntime


def cpu_session(path: str | Path, extra: str) -> Any:
    """An ``onnxruntime.InferenceSession`` of the graph at ``path`` with the settings above.

    Raises:
        MissingExtraError: onnxruntime is not installed (the hint names ``extra``).
        Exception: whatever onnxruntime raises for a corrupt or foreign file (the caller says
            which model it was).
    """
    ort = onnxruntime_module(extra)
    options = ort.SessionOptions()
    options.intra_op_num_threads = INTRA_OP_THREADS
    options.inter_op_num_threads = INTER_OP_THREADS
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.use_deterministic_compute = True
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
