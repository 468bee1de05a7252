"""Outputs: video and frame sequences (write, then rename) and recipes."""

from .recipe import Recipe, read_recipe, write_recipe
from .targets import OutputTarget, parse_output
from .writers import FrameSink, OutputSettings, open_sink, to_display

__all__ = [
    "FrameSink",
    "OutputSettings",
    "OutputTarget",
    "Recipe",
    "open_sink",
    "parse_output",
    "read_recipe",
    "to_display",
    "write_recipe",
]
