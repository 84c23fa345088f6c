"""``mig adapters new``: write a pip-installable extractor plugin project.

The project's files are templates in ``mig/scaffold/template/`` (shipped inside the
package); ``.tmpl`` files have their placeholders replaced (``__NAME__``, ``__PACKAGE__``,
``__DIST__``, ``__CLASS__``, ``__MIG_VERSION__``, ``__MIG_DISTRIBUTION__``, in paths too),
other files are copied as they are. The project is built beside its target and appears complete or not at all
(:func:`mig.fs.output_dir`); an existing path is never written into.

>>> names("fixed_text")
{'__NAME__': 'fixed_text', '__PACKAGE__': 'mig_fixed_text', '__DIST__': 'mig-fixed-text', '__CLASS__': 'FixedTextAdapter'}
>>> names("Fixed-Text")
Traceback (most recent call last):
...
mig.errors.ConfigError: adapter name 'Fixed-Text': use lower-case letters, digits and single underscores, starting with a letter (at most 40 characters)
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from mig.errors import ConfigError, OutputExistsError
from mig.fs import Owner, output_dir, write_bytes
from mig.version import DISTRIBUTION, __version__

__all__ = ["TEMPLATE", "names", "new_adapter"]

#: The folder of the project templates.
TEMPLATE = Path(__file__).resolve().parent / "template"
_NAME = re.compile(r"[a-z](?:_?[a-z0-9])*")
_MAX_NAME = 40
#: An owner no folder has: a scaffold never replaces anything.
_NOBODY = Owner("adapter project", "pyproject.toml", lambda data: False)


def names(name: str) -> dict[str, str]:
    """The placeholders of the project of adapter ``name``: entry-point name, import
    package, distribution, class."""
    if len(name) > _MAX_NAME or not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ConfigError(
            f"adapter name {name!r}: use lower-case letters, digits and single underscores, "
            f"starting with a letter (at most {_MAX_NAME} characters)"
        )
    return {
        "__NAME__": name,
        "__PACKAGE__": f"mig_{name}",
        "__DIST__": "mig-" + name.replace("_", "-"),
        "__CLASS__": "".join(part.capitalize() for part in name.split("_")) + "Adapter",
    }


def _render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def new_adapter(name: str, out: Path | None = None, *, installed: list[str] | None = None) -> Path:
    """Write the plugin project of adapter ``name`` at ``out`` (default ``./mig-NAME``).

    ``installed`` are the adapter names already registered: the new one must differ. Refuses
    (:class:`~mig.errors.ConfigError`, exit 2) a bad name, an existing ``out`` or a missing
    parent folder. Returns the project's folder.
    """
    values = names(name)
    if installed and name in installed:
        raise ConfigError(f"adapter name {name!r} is already registered by an installed plugin; choose another")
    values["__MIG_VERSION__"] = __version__
    values["__MIG_DISTRIBUTION__"] = DISTRIBUTION
    target = Path(out) if out is not None else Path.cwd() / values["__DIST__"]
    if target.exists() or target.is_symlink():
        raise OutputExistsError(f"{target}: already exists; refusing to write into it (give a new --out)")
    if not target.absolute().parent.is_dir():
        raise ConfigError(f"{target.absolute().parent}: no such folder")
    with output_dir(target, _NOBODY) as root:
        for source in sorted(TEMPLATE.rglob("*")):
            if not source.is_file() or "__pycache__" in source.parts:
                continue
            relative = _render(source.relative_to(TEMPLATE).as_posix(), values)
            destination = root / relative.removesuffix(".tmpl")
            destination.parent.mkdir(parents=True, exist_ok=True)
            data = source.read_bytes()
            if source.suffix == ".tmpl":
                data = _render(data.decode("utf-8"), values).encode("utf-8")
            write_bytes(destination, data)
    return target
