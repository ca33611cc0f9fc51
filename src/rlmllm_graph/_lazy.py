"""Public names imported on first use, so that importing a package (and the command line's ``--help``) does not
load pandas, networkx, scikit-learn or plotly before a command needs them (PEP 562)."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["export_lazily"]


class _LazyPackage(types.ModuleType):
    """A package whose public names come from submodules on first use.

    Importing a submodule sets it as an attribute of its package; where a submodule
    is named like the function it exports (``rlmllm_graph.crawl``), the attribute
    stays the function, as it was when the package imported everything up front.
    """

    _lazy_where: dict[str, str]

    def __getattr__(self, name: str) -> Any:
        module = self.__dict__.get("_lazy_where", {}).get(name)
        if module is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", self.__name__), name)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if (isinstance(value, types.ModuleType) and self.__dict__.get("_lazy_where", {}).get(name) == name
                and hasattr(value, name)):
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | set(self.__dict__.get("_lazy_where", {})))


def export_lazily(package: str, names: Mapping[str, Iterable[str]]) -> None:
    """Make ``names`` (``{submodule: (name, ...)}``) attributes of ``package``, each imported when first used."""
    module = sys.modules[package]
    module.__class__ = _LazyPackage
    module.__dict__["_lazy_where"] = {n: sub for sub, ns in names.items() for n in ns}
