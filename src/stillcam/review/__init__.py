"""Review: versions of a shot, what changed between two recipes, and boards of moves side by
side (docs/review.md). Above the pipeline and its options; below the web app and the CLI."""

__all__: list[str] = []
