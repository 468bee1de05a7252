"""Every package's ``__all__``: plainly sorted, resolvable, and complete: every public name a
package's ``__init__`` binds is in it, whatever its case, apart from submodules and what comes
from outside the package (``Path``, ``Sequence``, another stage's types)."""

import importlib
import pkgutil
import types

import pytest

import stillcam

PACKAGES = ["stillcam"] + [m.name for m in pkgutil.walk_packages(stillcam.__path__, "stillcam.") if m.ispkg]


def test_every_package_is_listed():
    assert {"stillcam.camera", "stillcam.output", "stillcam.web"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name):
    package = importlib.import_module(name)
    exported = package.__all__
    assert exported == sorted(exported), name
    for member in exported:
        assert hasattr(package, member), f"{name}.{member}"
    public = {
        n
        for n, value in vars(package).items()
        if not n.startswith("_")
        and not isinstance(value, types.ModuleType)
        and n != "annotations"  # from __future__
        and getattr(value, "__module__", name).startswith(name)
    }
    assert public <= set(exported), sorted(public - set(exported))
