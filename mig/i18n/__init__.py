"""Messages in Japanese and English from one catalogue; the locale decides which.

The catalogue is data: ``mig/i18n/catalogue/<domain>.toml`` holds one table per message
id, each with ``ja`` and ``en`` texts using the same ``{placeholders}``. A message id is
``<domain>.<key>`` (``findings.ragged-row``, ``cli.interrupted``). Every area of mig owns
its own domain file, so two areas never edit the same file.

The language: :func:`set_lang` (the ``--lang`` option) wins; otherwise the first set of
``LC_ALL``, ``LC_MESSAGES``, ``LANG`` (the POSIX order) — ``ja…`` gives Japanese, anything
else English. The shape of JSON output and its type codes never change with the language;
its ``message`` texts follow it (so a run's report.json is byte-identical for the same input
and the same language — the language is part of the run's settings).

>>> text("cli.interrupted", lang="en")
'interrupted; nothing half-written was kept'
>>> text("cli.interrupted", lang="ja")
'中断しました。書きかけの出力は残していません'
"""

from __future__ import annotations

import functools
import os
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

__all__ = ["LANGS", "Lang", "catalogue", "current_lang", "detect_lang", "has", "placeholders", "set_lang", "text", "texts"]

#: The languages of every message.
Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)

_CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
_override: Lang | None = None


def detect_lang(environ: Mapping[str, str] | None = None) -> Lang:
    """The language the environment asks for (``LC_ALL``, ``LC_MESSAGES``, ``LANG``).

    >>> detect_lang({"LANG": "ja_JP.UTF-8"})
    'ja'
    >>> detect_lang({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"})
    'en'
    >>> detect_lang({})
    'en'
    """
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def set_lang(lang: Lang | None) -> None:
    """Fix the language for this process (``None``: back to the environment's)."""
    if lang is not None and lang not in LANGS:
        from mig.errors import UnknownNameError

        raise UnknownNameError("language", str(lang), LANGS)
    global _override
    _override = lang


def current_lang() -> Lang:
    """The language messages are rendered in now."""
    return _override if _override is not None else detect_lang()


@functools.cache
def catalogue() -> Mapping[str, Mapping[Lang, str]]:
    """Every message id → ``{"ja": …, "en": …}``, read once from the catalogue files."""
    entries: dict[str, dict[Lang, str]] = {}
    for path in sorted(_CATALOGUE_DIR.glob("*.toml")):
        with path.open("rb") as f:
            tables = tomllib.load(f)
        for key, value in tables.items():
            entries[f"{path.stem}.{key}"] = {lang: str(value.get(lang, "")) for lang in LANGS}
    return entries


def has(msg_id: str) -> bool:
    """Whether the catalogue holds ``msg_id``."""
    return msg_id in catalogue()


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses.

    >>> sorted(placeholders("{item}: {detail}"))
    ['detail', 'item']
    """
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(msg_id: str, /, lang: Lang | None = None, **params: object) -> str:
    """The message ``msg_id`` in ``lang`` (default: :func:`current_lang`), filled with ``params``.

    An empty text in one language falls back to the other; an unknown id is a programming
    error and raises :class:`KeyError` naming it.
    """
    entry = catalogue().get(msg_id)
    if entry is None:
        raise KeyError(f"message id {msg_id!r} is not in the catalogue (mig/i18n/catalogue/)")
    chosen = lang or current_lang()
    template = entry[chosen] or entry["en" if chosen == "ja" else "ja"]
    return template.format(**params) if params else template


def texts(msg_id: str, /, **params: object) -> dict[Lang, str]:
    """The message in every language (for output that shows both side by side)."""
    return {lang: text(msg_id, lang=lang, **params) for lang in LANGS}
