"""Finding plugins through entry points: adapters (``mig.adapters``) and layout packs
(``mig.layouts``). The one place mig reads entry points."""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from mig.errors import ConfigError, UnknownNameError
from mig.plugin import Adapter

ENTRY_POINT_GROUP = "mig.adapters"
LAYOUTS_GROUP = "mig.layouts"


def adapter_names() -> list[str]:
    """Names of the installed adapters, sorted.

    >>> "csv" in adapter_names()
    True
    """
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def get_adapter(name: str) -> Adapter:
    """Load the adapter registered as ``name``; an unknown name lists those installed."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        raise UnknownNameError("adapter", name, adapter_names())
    try:
        loaded = matches[0].load()
        adapter = loaded() if isinstance(loaded, type) else loaded
    except Exception as exc:  # a broken plugin must not look like a mig bug
        raise ConfigError(f"adapter {name!r} failed to load: {exc}") from exc
    if not isinstance(adapter, Adapter):
        raise ConfigError(f"adapter {name!r} does not implement mig.plugin.Adapter")
    return adapter


def layout_pack_dirs(found: Iterable[EntryPoint] | None = None) -> list[tuple[str, Path]]:
    """``(label, directory)`` of every layout pack registered under ``mig.layouts``, by name.

    An entry point names a package or module (its directory is the pack: ``mypack =
    "mig_layouts_city"``), a ``str`` / path attribute, or a function returning one. The
    label (``entry point mig.layouts:NAME (DIST)``) is how errors name the pack. ``found``
    replaces the installed entry points (for tests).
    """
    points = sorted(entry_points(group=LAYOUTS_GROUP) if found is None else found, key=lambda ep: ep.name)
    packs = []
    for ep in points:
        dist = f" ({ep.dist.name})" if ep.dist is not None else ""
        label = f"entry point {LAYOUTS_GROUP}:{ep.name}{dist}"
        try:
            loaded = ep.load()
            if callable(loaded) and not isinstance(loaded, ModuleType):
                loaded = loaded()
        except Exception as exc:  # a broken pack must not look like a mig bug
            raise ConfigError(f"layout pack {label} failed to load: {exc}") from exc
        if isinstance(loaded, ModuleType):
            if loaded.__file__ is None:
                raise ConfigError(f"layout pack {label}: module {loaded.__name__} has no directory")
            directory = Path(loaded.__file__).parent
        elif isinstance(loaded, (str, os.PathLike)):
            directory = Path(loaded)
        else:
            raise ConfigError(f"layout pack {label} is not a directory, a module or a function returning a directory")
        packs.append((label, directory))
    return packs
