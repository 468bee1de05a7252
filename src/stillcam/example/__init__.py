"""The bundled example: a procedural scene ray-cast to exact RGB + depth from any camera."""

from .procedural import example_inputs, render_example

__all__ = [
    "example_inputs",
    "render_example",
]
