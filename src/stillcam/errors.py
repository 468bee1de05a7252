"""The one exception tree of stillcam.

::

    StillcamError                 base; ``exit_code`` is what the CLI returns
    ├── InputError (exit 2)       something the user gave is wrong: options, files, values
    │   ├── ImageError            a photo that cannot be read or is empty
    │   ├── DepthError            a depth map that is unreadable, invalid or mismatched
    │   ├── MoveError             unknown move or move parameter, bad parameter value
    │   ├── RecipeError           a recipe that is unreadable or whose inputs changed
    │   └── RequestError          a web app request that cannot be served; carries its HTTP status
    ├── OutputError (exit 1)      an output cannot be written (exists, unwritable, encoder)
    ├── MissingExtraError (exit 1) an optional part is not installed; says what to install
    └── ModelUnavailableError (exit 1) a model's weights are neither on disk nor downloadable

Every message says what was wrong and how to fix it, in one line.
"""

from __future__ import annotations


class StillcamError(Exception):
    """Base of all errors stillcam raises on purpose."""

    exit_code: int = 1


class InputError(StillcamError, ValueError):
    """A user-supplied option, file or value is invalid (CLI exit code 2)."""

    exit_code = 2


class ImageError(InputError):
    """A photo cannot be read, is not an image, or is empty."""


class DepthError(InputError):
    """A depth map cannot be read, has invalid values, or does not fit the photo."""


class MoveError(InputError):
    """An unknown move, an unknown move parameter, or a bad parameter value."""


class RecipeError(InputError):
    """A recipe cannot be read, or an input it names has changed since it was written."""


class RequestError(InputError):
    """A request to the web app that cannot be served (not found, too large, not an image);
    ``status`` is the HTTP status the server answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class OutputError(StillcamError, OSError):
    """An output cannot be written (already exists, unwritable folder, encoder failure)."""

    exit_code = 1


class MissingExtraError(StillcamError, ImportError):
    """An optional dependency is missing; the message names the pip extra to install."""

    exit_code = 1


class ModelUnavailableError(StillcamError):
    """A model's weights are neither on disk nor downloadable; says where to get them (exit 1)."""

    exit_code = 1


def missing_extra(package: str, extra: str) -> MissingExtraError:
    """Build the install-hint error for an optional ``package`` of pip extra ``extra``."""
    return MissingExtraError(f"{package} is not installed; install it with: pip install 'stillcam[{extra}]'")
