"""The browser app (``stillcam serve``, extra ``web``): :mod:`.server` (HTTP wiring),
:mod:`.preview` (what the viewer is sent), :mod:`.uploads`, :mod:`.jobs`."""

__all__: list[str] = []
