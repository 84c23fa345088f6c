"""Differential tests against glibc iconv, an independent decoder: every code of every
table decodes as iconv decodes it (IBM-930/939/1390/1399 through mixed fields with SO/SI,
EUC-JP-MS, EUC-JISX0213, EUC-JP), and Python's CP932 (what the csv adapter uses) against
iconv's CP932, with every known difference listed. A charset iconv lacks is skipped."""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import numpy as np
import pytest

from mig.codecs import get_codec
from mig.codecs.euc import EucDecodeError, decode_euc


class Iconv:
    """One glibc iconv descriptor (reset before every call)."""

    def __init__(self, to: str, frm: str) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.iconv_open.restype = ctypes.c_void_p
        libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.iconv.restype = ctypes.c_size_t
        libc.iconv.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 4
        self.libc = libc
        self.cd = libc.iconv_open(to.encode(), frm.encode())
        if self.cd in (None, ctypes.c_void_p(-1).value):
            raise LookupError(frm)
        self.buf = ctypes.create_string_buffer(64)

    def __call__(self, data: bytes) -> str | None:
        fail = ctypes.c_size_t(-1).value
        self.libc.iconv(self.cd, None, None, None, None)
        inbuf, inleft = ctypes.c_char_p(data), ctypes.c_size_t(len(data))
        outp, outleft = ctypes.cast(self.buf, ctypes.c_char_p), ctypes.c_size_t(64)
        if self.libc.iconv(self.cd, ctypes.byref(inbuf), ctypes.byref(inleft), ctypes.byref(outp), ctypes.byref(outleft)) == fail:
            return None
        if self.libc.iconv(self.cd, None, None, ctypes.byref(outp), ctypes.byref(outleft)) == fail:
            return None
        return self.buf.raw[: 64 - outleft.value].decode("utf-8")


@cache
def iconv(name: str) -> Iconv:
    try:
        return Iconv("UTF-8", name)
    except LookupError:
        pytest.skip(f"iconv lacks {name}")


@pytest.mark.parametrize("ccsid", ["930", "939", "1390", "1399"])
def test_ibm_mixed_fields_decode_every_code_as_iconv_does(ccsid: str) -> None:
    reference = iconv(f"IBM{ccsid}")
    codec = get_codec(f"ibm-{ccsid}")
    codes = [lead << 8 | trail for lead in range(0x40, 0xFF) for trail in range(0x40, 0xFF)]
    fields = np.zeros((len(codes), 4), np.uint8)
    fields[:, 0], fields[:, 3] = 0x0E, 0x0F
    fields[:, 1] = np.array(codes) >> 8
    fields[:, 2] = np.array(codes) & 0xFF
    result = codec.decode_mixed(fields)
    values = result.values.to_pylist()
    checked = 0
    for i, code in enumerate(codes):
        want = reference(bytes(fields[i]))
        if want:
            assert result.errors[i] == 0 and values[i] == want, hex(code)
            checked += 1
        else:
            assert result.errors[i] != 0, hex(code)
    assert checked > 10_000
    singles = np.array([[b] for b in range(256) if b not in (0x0E, 0x0F)], np.uint8)
    decoded = codec.decode_mixed(singles)
    for i, byte in enumerate(singles[:, 0].tolist()):
        want = reference(bytes([byte]))
        assert (decoded.values[i].as_py() if decoded.errors[i] == 0 else None) == (want or None), hex(byte)


def _euc_codes() -> list[bytes]:
    two = [bytes((lead, trail)) for lead in range(0xA1, 0xFF) for trail in range(0xA1, 0xFF)]
    kana = [bytes((0x8E, trail)) for trail in range(0xA1, 0xFF)]
    three = [bytes((0x8F, b2, b3)) for b2 in range(0xA1, 0xFF) for b3 in range(0xA1, 0xFF)]
    return two + kana + three


#: Where mig's euc-jp is meant to differ from glibc's EUC-JP (mig/codecs/README.md):
#: the JIS X 0212 tilde as Unicode's JIS0212.TXT maps it, and the eucJP-ms user areas.
EUC_JP_DIFFERENCES = {b"\x8f\xa2\xb7": "~"}


@pytest.mark.parametrize(("encoding", "reference"), [("eucjp-ms", "EUC-JP-MS"), ("euc-jis-2004", "EUC-JISX0213"), ("euc-jp", "EUC-JP")])
def test_euc_decodes_every_code_as_iconv_does(encoding: str, reference: str) -> None:
    decode = iconv(reference)
    checked = user_area = 0
    for code in _euc_codes():
        want = decode(code)
        try:
            got: str | None = decode_euc(encoding, code).decode("utf-8")
        except EucDecodeError:
            got = None
        if encoding == "euc-jp" and code in EUC_JP_DIFFERENCES:
            assert got == EUC_JP_DIFFERENCES[code]
        elif encoding == "euc-jp" and want is None and got is not None:
            assert 0xE000 <= ord(got) <= 0xE757 and code[-2] >= 0xF5  # the eucJP-ms user areas
            user_area += 1
        else:
            assert got == want, code.hex()
        checked += want is not None
    assert checked > 6000
    assert user_area == (1880 if encoding == "euc-jp" else 0)


#: Python's cp932 against glibc's CP932: Python decodes five single bytes Microsoft's table
#: leaves undefined (0x80 → U+0080, 0xA0 and 0xFD–0xFF → Private Use U+F8F0–U+F8F3), glibc
#: refuses them; every double-byte code agrees.
CP932_DIFFERENCES = {b"\x80": ("\x80", None), b"\xa0": ("\uf8f0", None), b"\xfd": ("\uf8f1", None),
                     b"\xfe": ("\uf8f2", None), b"\xff": ("\uf8f3", None)}


def test_python_cp932_agrees_with_iconv_on_every_code_but_the_listed_ones() -> None:
    decode = iconv("CP932")
    differences: dict[bytes, tuple[str | None, str | None]] = {}
    singles = [bytes([b]) for b in range(256)]
    pairs = [bytes((lead, trail)) for lead in (*range(0x81, 0xA0), *range(0xE0, 0xFD)) for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD))]
    for code in singles + pairs:
        try:
            ours: str | None = code.decode("cp932")
        except UnicodeDecodeError:
            ours = None
        theirs = decode(code)
        if ours != theirs:
            differences[code] = (ours, theirs)
    assert len(pairs) > 11_000
    assert differences == CP932_DIFFERENCES
