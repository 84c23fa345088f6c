"""Finding adapters through the ``mig.adapters`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from mig.errors import ConfigError, UnknownNameError
from mig.plugin import Adapter

ENTRY_POINT_GROUP = "mig.adapters"


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
