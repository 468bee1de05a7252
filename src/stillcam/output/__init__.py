"""Outputs: video and frame sequences (write, then rename) and recipes."""

from .frames import ShotOutput, display_frame
from .recipe import Recipe, read_recipe, write_recipe
from .sinks import check_output, open_sink
from .targets import OutputTarget, parse_output
from .writers import FrameSink, OutputSettings, SinkInput, to_display

__all__ = [
    "FrameSink",
    "OutputSettings",
    "OutputTarget",
    "Recipe",
    "ShotOutput",
    "SinkInput",
    "check_output",
    "display_frame",
    "open_sink",
    "parse_output",
    "read_recipe",
    "to_display",
    "write_recipe",
]
