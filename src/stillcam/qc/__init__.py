"""``stillcam qc``: the check a delivery desk runs on an output before it ships.

It probes the file itself (PyAV, OpenEXR; :mod:`~stillcam.qc.probe`): size and aspect, codec,
FourCC, profile, bit depth, chroma subsampling, colour tags, exact frame rate, frame count,
timecode. From the recipe beside the output (:mod:`~stillcam.qc.report`) it reads the upscale
factor (:mod:`stillcam.camera.upscale`), the motion guard's largest reveal, and the models
with their licences; a content credential is checked when the provenance extra is installed.
Checks come from a spec (:mod:`~stillcam.qc.spec`: a small YAML of limits; two ship with
stillcam). docs/delivery.md, "QC".
"""

from .command import print_report, run_qc
from .probe import Colour, Media, probe
from .report import Check, QcReport, qc, report_path, resolve
from .spec import DEFAULT_SPEC, QcSpec, load_spec, shipped_specs, spec_names

__all__ = [
    "Check",
    "Colour",
    "DEFAULT_SPEC",
    "Media",
    "QcReport",
    "QcSpec",
    "load_spec",
    "print_report",
    "probe",
    "qc",
    "report_path",
    "resolve",
    "run_qc",
    "shipped_specs",
    "spec_names",
]
