"""A module imported on first attribute access: for command modules whose --help must stay cheap."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_loaded"] = None

    def __getattr__(self, attribute: str) -> Any:
        module = self.__dict__["_loaded"]
        if module is None:
            module = self.__dict__["_loaded"] = importlib.import_module(self.__name__)
        return getattr(module, attribute)


def lazy_module(name: str) -> Any:
    """``name``'s module, imported when one of its attributes is first used."""
    return _LazyModule(name)
