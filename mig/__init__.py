"""mig — move Japanese local-government data through the 中間標準レイアウト.

The public library API; the ``mig`` command is a thin layer over it.

>>> import mig
>>> "juki-jumin" in [layout.id for layout in mig.list_layouts()]
True
"""

from __future__ import annotations

from mig.errors import ExitCode, MigError, UserError
from mig.layout import Item, Layout, get_layout, list_layouts
from mig.version import __version__

__all__ = [
    "ExitCode",
    "Item",
    "Layout",
    "MigError",
    "UserError",
    "__version__",
    "get_layout",
    "list_layouts",
]
