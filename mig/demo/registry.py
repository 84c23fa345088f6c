"""The demo's 外字 registry: the demo vendor's six Private Use characters → MJ characters.

``gaiji/registries/demo-vendor.csv`` (packaged) registers U+E000–U+E005 of the source
``demo-vendor-cp932`` (the characters of :data:`mig.demo.generator.DEMO_GAIJI`) as MJ
characters; four of them (﨑 邊 齋 濵) are stored with their IVS. :func:`attach_demo_registry`
copies it beside a demo mapping and switches the resolver on in that mapping.

Resolved MJ characters may lie outside CP932 (𠮷 does), the encoding in which the 住民記録
layouts count bytes: the demo mapping then reports ``not-encodable`` as a warning, not a
rejection — the intermediate files are UTF-8 and keep the character; a CP932 target gets
it through ``mig load --gaiji-policy shrink``.
"""

from __future__ import annotations

from pathlib import Path

from mig.fs import write_bytes, write_text
from mig.resources import data_dir

__all__ = ["DEMO_REGISTRY", "DEMO_SOURCE", "attach_demo_registry", "demo_registry_path"]

DEMO_SOURCE = "demo-vendor-cp932"
"""The registry source name of the demo export's vendor 外字."""

DEMO_REGISTRY = "gaiji-registry.csv"
"""The file name the registry gets beside the demo mapping."""


def demo_registry_path() -> Path:
    """The packaged demo registry file."""
    return data_dir("gaiji") / "registries" / "demo-vendor.csv"


def attach_demo_registry(mapping_path: Path) -> Path:
    """Copy the demo registry beside ``mapping_path`` and add a ``[gaiji]`` table to it.

    Returns the registry's new path. The mapping must not have a ``[gaiji]`` table yet.
    """
    target = mapping_path.parent / DEMO_REGISTRY
    write_bytes(target, demo_registry_path().read_bytes())
    text = mapping_path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    severity = (
        "# resolved MJ characters may lie outside CP932 (e.g. 𠮷): kept in the UTF-8 intermediate\n"
        "# files; `mig load --gaiji-policy shrink` makes them fit a JIS X 0213 target\n"
        '"not-encodable" = "warning"\n'
    )
    if "\n[severity]\n" in text:
        text = text.replace("\n[severity]\n", "\n[severity]\n" + severity, 1)
    else:
        text += "\n[severity]\n" + severity
    text += (
        "\n# 外字: the vendor's Private Use characters, resolved through the registry\n"
        "[gaiji]\n"
        f'source = "{DEMO_SOURCE}"\n'
        f'registry = "{DEMO_REGISTRY}"\n'
    )
    write_text(mapping_path, text)
    return target
