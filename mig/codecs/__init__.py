"""Mainframe character and number codecs, vectorised over arrays of fixed-width fields.

Character sets (``CHARSETS``) pair a single-byte set with a double-byte set:
Fujitsu JEF, Hitachi KEIS78/KEIS83, NEC JIPS(J)/JIPS(E) (tables derived from jef4j,
Apache-2.0) and IBM CCSID 930/939/1390/1399 (tables generated from glibc iconv).
Every decoder takes a ``uint8`` array of shape ``(n, width)`` (one row per field) and
returns a :class:`DecodeResult` (Arrow ``large_string`` values, an ``int8`` error code per
field, an ``int32`` 外字 count per field). No Python loop runs per byte, character or row.

Numbers: :func:`unpack_packed` (COMP-3), :func:`unpack_zoned` (DISPLAY numerics),
:func:`unpack_binary` (COMP/COMP-4/BINARY/COMP-5) return exact ``int64`` (scale 0) or
``decimal128`` arrays plus a boolean error mask; ``pack_*`` encode for tests.

EUC-JP family (:mod:`mig.codecs.euc`): ``euc-jp`` (eucJP-ms 外字 → U+E000–U+E757),
``eucjp-ms``, ``euc-jis-2004``, whole blocks to UTF-8 (the csv adapter's decoder). Site
overlays (:mod:`mig.codecs.overlay`): a CSV of codes decoded differently for one run,
applied by :func:`get_codec` inside :func:`~mig.codecs.overlay.overlay_scope`. The 〜 family
(:mod:`mig.codecs.tilde`). Decode defaults and every deliberate difference from the source
tables: ``mig/codecs/README.md``.

Tables: ``mig/codecs/tables/charsets.arrow``, built by ``scripts/build_codec_tables.py``
(jef4j tables, Apache-2.0, see ``tables/NOTICE``; IBM tables from glibc iconv). How the
tables' option flags and variant (IVS) forms are used: :mod:`mig.codecs.luts`.

>>> import numpy as np
>>> codec = get_codec("jef-ebcdik")
>>> fields = codec.encode_mixed(["ﾔﾏﾀﾞ 山田"], 12)
>>> codec.decode_mixed(fields).values.to_pylist()
['ﾔﾏﾀﾞ 山田 ']
"""

from __future__ import annotations

from mig.codecs.decoders import (
    CHARSETS,
    ERRORS,
    GAIJI_SOURCE,
    Codec,
    DecodeResult,
    get_codec,
)
from mig.codecs.encoders import EncodeError
from mig.codecs.luts import VARIANTS, Variant
from mig.codecs.numeric import (
    ZonedSign,
    pack_binary,
    pack_packed,
    pack_zoned,
    unpack_binary,
    unpack_packed,
    unpack_zoned,
    zoned_family,
)

__all__ = [
    "CHARSETS",
    "ERRORS",
    "GAIJI_SOURCE",
    "Codec",
    "DecodeResult",
    "EncodeError",
    "VARIANTS",
    "Variant",
    "ZonedSign",
    "get_codec",
    "pack_binary",
    "pack_packed",
    "pack_zoned",
    "unpack_binary",
    "unpack_packed",
    "unpack_zoned",
    "zoned_family",
]
