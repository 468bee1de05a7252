"""The browser app (``stillcam serve``, extra ``web``): :mod:`.server` (HTTP wiring),
:mod:`.schema` (request bodies, typed from the options), :mod:`.guard` (token and body
limits), :mod:`.budget` (previews' time budget), :mod:`.preview` (what the viewer is sent),
:mod:`.uploads` and :mod:`.sniff` (uploads, checked from their headers), :mod:`.jobs`."""

__all__: list[str] = []
