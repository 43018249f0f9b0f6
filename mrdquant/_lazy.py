"""Lazy attribute loading for the flat public API.

``import mrdquant`` stays cheap (no flowkit, no matplotlib): each public name is imported
from its private module the first time it is used.
"""

from __future__ import annotations

import importlib
from typing import Callable


def attach(package: str, mapping: dict[str, str]) -> tuple[Callable, Callable, list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for ``package``.

    ``mapping`` maps each public name to the module (relative to ``package``) defining it.
    A name equal to the last component of its module (``"outcomes": ".outcomes"``) is the
    module itself.
    """

    def __getattr__(name: str):
        try:
            module_name = mapping[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(module_name, package)
        if module_name.rsplit(".", 1)[-1] == name:
            return module
        return getattr(module, name)

    def __dir__() -> list[str]:
        return sorted(mapping)

    return __getattr__, __dir__, sorted(mapping)
