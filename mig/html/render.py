"""The one Jinja2 environment every HTML report renders through.

Templates live in ``mig/html/templates/`` (shipped inside the package, found through the
package loader both from a checkout and from an installed wheel): ``base.html.j2`` is the
page skeleton every report extends and ``base.css`` the style every page starts from;
a report adds its own blocks and, where it needs them, style rules after the base ones.

Every ``{{ value }}`` is escaped (autoescape on). The escaping is :func:`html.escape`
(``&quot;`` and ``&#x27;`` for quotes) rather than Jinja's default (``&#34;``, ``&#39;``),
so pages stay byte-identical to the ones mig wrote before it used templates. A value is
left alone only when it is already markup (a macro's output).
"""

from __future__ import annotations

import html
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from mig.html.format import as_int, as_list, is_int, number, text
from mig.i18n import LANGS, Lang, catalogue
from mig.i18n import text as message

TEMPLATES = "templates"
"""The folder of ``mig/html`` that holds the templates and their style sheets."""


def _escape(value: Any) -> Any:
    """Escape one output value (the environment's ``finalize``)."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(text(value), quote=True))


@cache
def environment() -> Environment:
    """The shared environment: package loader, autoescape, strict undefined, the
    whitespace control the templates are written for, and the value formats as filters."""
    env = Environment(
        loader=PackageLoader("mig.html", TEMPLATES),
        autoescape=True,
        finalize=_escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters.update(number=number, text=text, as_int=as_int, as_list=as_list)
    env.tests.update(int=is_int)
    return env


def compile_template(template: str) -> None:
    """Compile ``template`` now; the environment keeps it for :func:`render`. Lets a long
    job compile its report's template while waiting for its first input (in a thread).

    >>> compile_template("run_report.html.j2")
    """
    environment().get_template(template)


def render(template: str, /, **context: Any) -> str:
    """Render one report template with ``context``; same context in, same string out."""
    return environment().get_template(template).render(**context)


def labels(domain: str, lang: Lang, prefix: str = "") -> dict[str, str]:
    """The labels of a page, from the catalogue entries ``<domain>.<prefix>…``: each in
    ``lang`` first, then in the other language after a slash (once when both are the same).
    Keys are the entry keys without the prefix.

    >>> labels("report", "ja")["result"], labels("report", "en")["result"]
    ('取込結果 / Result', 'Result / 取込結果')
    """
    other = next(language for language in LANGS if language != lang)
    head = f"{domain}.{prefix}"
    keys = [msg_id.removeprefix(head) for msg_id in catalogue() if msg_id.startswith(head)]
    return {key: _both(message(head + key, lang=lang), message(head + key, lang=other)) for key in keys}


def _both(first: str, second: str) -> str:
    return first if first == second else f"{first} / {second}"
