"""Finding plugins through entry points: adapters (``mig.adapters``), load targets
(``mig.targets``) and layout packs (``mig.layouts``). The one place mig reads entry points.

An adapter is loaded into an :class:`AdapterInfo`: the adapter object with what it
declares (see :mod:`mig.plugin`: version, API version, options, finding types) and where
it came from (distribution and version). A plugin that fails to load, or declares
something malformed, is an :class:`AdapterInfo` with ``error`` set: ``mig adapters list``
shows it as broken and the others keep working; using it is a one-line ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from mig.errors import AdapterContractError, ConfigError, UnknownNameError
from mig.plugin import API_VERSION, Adapter, FindingType, OptionsSchema, SourceReader

ENTRY_POINT_GROUP = "mig.adapters"
TARGETS_GROUP = "mig.targets"
LAYOUTS_GROUP = "mig.layouts"


@dataclass(frozen=True)
class AdapterInfo:
    """An adapter as mig sees it: the object, its declarations (defaults applied) and its origin."""

    name: str
    distribution: str | None = None
    distribution_version: str | None = None
    adapter: Adapter | None = None
    error: str | None = None
    description: str = ""
    version: str | None = None
    api_version: int = API_VERSION
    options: OptionsSchema | None = None
    finding_types: tuple[FindingType, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """``adapter NAME (DIST VERSION)``: how errors name the adapter."""
        if self.distribution is None:  # given as an object (library API), not an entry point
            return f"adapter {self.name} (not installed" + (f", version {self.version})" if self.version else ")")
        return f"adapter {self.name} ({self.distribution}" + (f" {self.version})" if self.version else ")")

    def get(self) -> Adapter:
        """The adapter; a broken one raises its one-line error."""
        if self.adapter is None:
            raise ConfigError(f"adapter {self.name!r} is broken: {self.error}")
        return self.adapter

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "distribution": self.distribution,
            "version": self.version,
            "api_version": self.api_version,
            "options": self.options.describe() if self.options is not None else None,
            "finding_types": [
                {"code": t.code, "severity": t.severity, "template": t.template, "template_ja": t.template_ja}
                for t in self.finding_types
            ],
            "broken": self.error,
        }


def describe_adapter(
    loaded: Any, name: str | None = None, distribution: str | None = None, distribution_version: str | None = None
) -> AdapterInfo:
    """Check an adapter object (or class) and its declarations; a malformed one raises ConfigError.

    This is also how the library API takes an adapter object directly (no entry point):
    ``mig.extract(..., adapter=MyAdapter())``.
    """
    adapter = loaded() if isinstance(loaded, type) else loaded
    name = name or str(getattr(adapter, "name", "") or "")
    if not isinstance(adapter, Adapter):
        raise ConfigError(f"adapter {name!r} does not implement mig.plugin.Adapter (name, description, open)")
    api = getattr(adapter, "api_version", API_VERSION)
    if not isinstance(api, int) or isinstance(api, bool) or api < 1:
        raise ConfigError(f"adapter {name!r}: api_version must be a positive integer")
    if api > API_VERSION:
        raise ConfigError(f"adapter {name!r} needs plugin API {api}; this mig has API {API_VERSION}: upgrade mig")
    options = getattr(adapter, "options", None)
    if options is not None and not isinstance(options, OptionsSchema):
        raise ConfigError(f"adapter {name!r}: options must be a mig.plugin.OptionsSchema")
    declared = getattr(adapter, "finding_types", ())
    if isinstance(declared, (str, bytes)) or not isinstance(declared, Iterable):
        raise ConfigError(f"adapter {name!r}: finding_types must be a list of mig.plugin.FindingType")
    types = tuple(declared)
    if not all(isinstance(t, FindingType) for t in types):
        raise ConfigError(f"adapter {name!r}: finding_types must be a list of mig.plugin.FindingType")
    version = getattr(adapter, "version", None)
    return AdapterInfo(
        name=name,
        distribution=distribution,
        distribution_version=distribution_version,
        adapter=adapter,
        description=str(getattr(adapter, "description", "")),
        version=str(version) if version else distribution_version,
        api_version=api,
        options=options,
        finding_types=types,
    )


def _from_entry_point(ep: EntryPoint) -> AdapterInfo:
    dist = ep.dist.name if ep.dist is not None else None
    dist_version = ep.dist.version if ep.dist is not None else None
    try:
        loaded = ep.load()
        return describe_adapter(loaded, ep.name, dist, dist_version)
    except Exception as exc:  # a broken plugin must not look like a mig bug
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not isinstance(exc, ConfigError):
            reason = f"failed to load: {type(exc).__name__}: {reason}"
        return AdapterInfo(name=ep.name, distribution=dist, distribution_version=dist_version,
                           version=dist_version, error=reason)


def _adapter_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def adapter_names() -> list[str]:
    """Names of the installed adapters, sorted.

    >>> "csv" in adapter_names()
    True
    """
    return sorted({ep.name for ep in _adapter_points()})


def adapter_infos() -> list[AdapterInfo]:
    """Every installed adapter by name, broken ones included (with ``error`` set)."""
    seen: set[str] = set()
    infos = []
    for ep in _adapter_points():
        if ep.name not in seen:
            seen.add(ep.name)
            infos.append(_from_entry_point(ep))
    return infos


def adapter_info(name: str) -> AdapterInfo:
    """The installed adapter ``name``; an unknown name lists those installed, a broken
    one raises its error."""
    matches = [ep for ep in _adapter_points() if ep.name == name]
    if not matches:
        raise UnknownNameError("adapter", name, adapter_names())
    info = _from_entry_point(matches[0])
    info.get()
    return info


def get_adapter(name: str) -> Adapter:
    """Load the adapter registered as ``name``; an unknown name lists those installed."""
    return adapter_info(name).get()


def open_reader(
    info: AdapterInfo, path: Path, options: Mapping[str, Any], *, batch_bytes: int
) -> SourceReader:
    """Open ``path`` with the adapter: its declared options checked first (unknown ones
    and wrong types are one ConfigError line), and the reader checked to be one."""
    if info.options is not None:
        info.options.check(options)
    reader = info.get().open(path, options, batch_bytes=batch_bytes)
    if not isinstance(reader, SourceReader):
        raise AdapterContractError(
            f"{info.label}: open() returned no mig.plugin.SourceReader (path, encoding, columns, batches)"
        )
    return reader


def target_entry_points() -> dict[str, EntryPoint]:
    """The load targets registered under ``mig.targets``: URL scheme → entry point."""
    return {ep.name.lower(): ep for ep in sorted(entry_points(group=TARGETS_GROUP), key=lambda ep: ep.name)}


def load_target_factory(ep: EntryPoint) -> Any:
    """The target factory an entry point names (a class or function taking the URL)."""
    dist = f" ({ep.dist.name})" if ep.dist is not None else ""
    try:
        factory = ep.load()
    except Exception as exc:  # a broken plugin must not look like a mig bug
        raise ConfigError(f"load target {ep.name}{dist} failed to load: {type(exc).__name__}: {exc}") from None
    if not callable(factory):
        raise ConfigError(f"load target {ep.name}{dist} is not a class or function taking the URL")
    return factory


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
