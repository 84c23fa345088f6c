"""The demo mapping's hook (``hook = "mig.demo.hooks:zip_digits"`` in ``mig/demo/mapping.toml``)."""

from __future__ import annotations

import polars as pl

__all__ = ["zip_digits"]


def zip_digits(zip_code: pl.Expr) -> pl.Expr:
    """Mapping hook: the vendor's ``123-4567`` → the layout's ``1234567``.

    >>> pl.select(zip_digits(pl.lit("102-0083"))).item()
    '1020083'
    """
    return zip_code.str.replace_all("-", "", literal=True)
