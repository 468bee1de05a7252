"""Shot lists and render farms (issue #16): ``stillcam batch`` on a local process pool or a Ray
cluster, resumable, with a manifest and editorial (OpenTimelineIO) in and out.

The unit of work is a :class:`~.jobs.ShotJob` (one shot, everything resolved: its inputs,
options and final output names); :func:`~.jobs.run_shot` renders one in this process
through the same code path as ``stillcam render`` and returns a :class:`~.jobs.ShotResult`.
"""

from .jobs import ShotJob, ShotResult, run_shot

__all__ = ["ShotJob", "ShotResult", "run_shot"]
