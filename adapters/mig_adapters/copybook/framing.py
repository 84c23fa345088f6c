"""Record framing of mainframe files: fixed LRECL, RDW, BDW+RDW (VB) and newline-terminated text.

Every framer works on one block of bytes that begins at a record (or block) boundary and
returns where each complete record's original bytes and data lie, how many bytes of the
block it covered, and a truncated final record when the block is the end of the file.

Variable-length records form a chain — each RDW says where the next record starts — so
finding them looks inherently sequential. Here the chain is walked by pointer doubling
over *candidate* positions (four bytes that could be an RDW: length ≥ 4 and two zero
bytes), all in NumPy: every candidate gets its successor, jumps of 2, 4, 8 … records are
composed with one gather each, and the set of records reachable from the start doubles
with every round — ``O(candidates × log records)`` work, no Python loop per record.
BDWs (one per block of typically 27–32 KB) are walked with a short loop per *block*.

Bad framing is never guessed around: an RDW or BDW whose length is below 4, or whose
reserved bytes are not zero, stops the file with :class:`FramingError` (the reader turns
it into an :class:`~mig.errors.InputError` naming the byte offset); a record whose length
runs past the end of the file is the truncated last record, rejected with its bytes.

>>> buf = np.frombuffer(bytes([0, 6, 0, 0, 65, 66, 0, 5, 0, 0, 67]), dtype=np.uint8)
>>> f = frame_rdw(buf, final=True)
>>> f.data_starts.tolist(), f.data_ends.tolist(), f.truncated
([4, 10], [6, 11], None)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import numpy.typing as npt

from mig.errors import InputError

Bytes = npt.NDArray[np.uint8]
Positions = npt.NDArray[np.int64]
FramingMode = Literal["fixed", "rdw", "bdw-rdw", "text"]
FRAMINGS: tuple[str, ...] = ("fixed", "rdw", "bdw-rdw", "text")

#: Longest text record accepted before the newline is judged wrong (like the CSV adapter).
MAX_TEXT_RECORD = 8 * 1024 * 1024
#: An RDW holds a 16-bit length; two of them always fit in this many bytes.
_RDW_MAX = 0xFFFF


class FramingError(Exception):
    """A header that cannot be an RDW/BDW: ``position`` in the block and the ``rule`` broken."""

    def __init__(self, position: int, rule: str) -> None:
        self.position = position
        self.rule = rule
        super().__init__(f"byte {position}: {rule}")


@dataclass(frozen=True)
class Frames:
    """The complete records of a block.

    ``raw_*`` delimit each record's original bytes (with its RDW, or its newline);
    ``data_*`` the bytes the copybook describes. ``consumed`` bytes of the block are
    covered (the rest is carried into the next block). ``truncated`` is the
    ``(start, end)`` of a final record cut short by the end of the file.
    """

    raw_starts: Positions
    raw_ends: Positions
    data_starts: Positions
    data_ends: Positions
    consumed: int
    truncated: tuple[int, int] | None = None
    truncated_rule: str = ""

    @property
    def count(self) -> int:
        return int(self.raw_starts.size)

    def part(self, start: int, stop: int) -> Frames:
        """Records ``start`` to ``stop`` of the block; the truncated record stays with the last part."""
        last = stop >= self.count
        return Frames(
            self.raw_starts[start:stop], self.raw_ends[start:stop],
            self.data_starts[start:stop], self.data_ends[start:stop], self.consumed,
            self.truncated if last else None, self.truncated_rule if last else "",
        )


def _empty() -> Positions:
    return np.zeros(0, dtype=np.int64)


def frame_fixed(size: int, lrecl: int, *, final: bool) -> Frames:
    """Fixed-length records of ``lrecl`` bytes in a block of ``size`` bytes.

    >>> f = frame_fixed(10, 4, final=True)
    >>> f.raw_starts.tolist(), f.truncated
    ([0, 4], (8, 10))
    """
    if lrecl <= 0:
        raise ValueError("lrecl must be positive")
    count = size // lrecl
    starts = np.arange(count, dtype=np.int64) * lrecl
    ends = starts + lrecl
    consumed = count * lrecl
    truncated = None
    rule = ""
    if final and consumed < size:
        truncated = (consumed, size)
        rule = f"last record has {size - consumed} of {lrecl} bytes"
        consumed = size
    return Frames(starts, ends, starts, ends, consumed, truncated, rule)


def frame_text(buf: Bytes, newline: bytes, *, final: bool, strip_cr: bool = True) -> Frames:
    """Records ended by ``newline`` (e.g. ``b"\\n"``; EBCDIC files use ``b"\\x15"`` or ``b"\\x25"``).

    With ``strip_cr`` a carriage return (0x0D, the same byte in ASCII and EBCDIC) before
    the newline is not part of the data. The last record may lack its newline.

    >>> f = frame_text(np.frombuffer(b"ab\\r\\ncd", dtype=np.uint8), b"\\n", final=True)
    >>> f.data_starts.tolist(), f.data_ends.tolist(), f.raw_ends.tolist()
    ([0, 4], [2, 6], [4, 6])
    """
    n = buf.shape[0]
    k = len(newline)
    if k == 0:
        raise ValueError("empty newline")
    if n < k:
        hits = _empty()
    else:
        mask = buf[: n - k + 1] == newline[0]
        for j in range(1, k):  # loop over the newline's bytes, not over data
            mask &= buf[j: n - k + 1 + j] == newline[j]
        hits = np.flatnonzero(mask).astype(np.int64)
        if k > 1 and hits.size > 1:  # overlapping matches (e.g. newline 0x1515 in 151515)
            keep = np.ones(hits.size, dtype=np.bool_)
            keep[1:] = np.diff(hits) >= k
            hits = hits[keep]
    raw_ends = hits + k
    consumed = int(raw_ends[-1]) if raw_ends.size else 0
    data_ends = hits.copy()
    if final and consumed < n:
        raw_ends = np.append(raw_ends, n)
        data_ends = np.append(data_ends, n)
        consumed = n
    raw_starts = np.concatenate(([0], raw_ends[:-1])).astype(np.int64) if raw_ends.size else _empty()
    if strip_cr and newline != b"\r" and data_ends.size:
        before = data_ends - 1
        cr = (before >= raw_starts) & (buf[np.maximum(before, 0)] == 0x0D)
        data_ends = data_ends - cr.astype(np.int64)
    return Frames(raw_starts, raw_ends, raw_starts.copy(), data_ends, consumed)


def _rdw_candidates(buf: Bytes) -> tuple[Positions, Positions]:
    """Positions where four bytes could be an RDW (length ≥ 4, bytes 3–4 zero), and the lengths."""
    n = buf.shape[0]
    if n < 4:
        return _empty(), _empty()
    positions = np.flatnonzero((buf[2: n - 1] == 0) & (buf[3:] == 0)).astype(np.int64)
    lengths = (buf[positions].astype(np.int64) << 8) | buf[positions + 1]
    plausible = lengths >= 4
    return positions[plausible], lengths[plausible]


def _header_problem(buf: Bytes, position: int, what: str = "RDW") -> str:
    n = buf.shape[0]
    if position + 4 > n:
        return f"{what} cut short by the end of the file"
    length = (int(buf[position]) << 8) | int(buf[position + 1])
    if length < 4:
        return f"{what} length {length} (at least 4: the length counts the {what} itself)"
    return (f"{what} bytes 3-4 are not zero — not an {what}: wrong framing, or spanned records "
            "(RECFM=VBS), which are not supported")


def reachable(successor: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Nodes reachable from ``starts`` by following ``successor`` (the last node is the stop).

    Pointer doubling: round *k* adds the nodes 2^k … 2^(k+1)−1 steps from a start, so
    the rounds number about log2 of the longest chain.

    >>> reachable(np.array([2, 3, 4, 4, 4]), np.array([0])).tolist()
    [True, False, True, False, False]
    """
    stop = successor.shape[0] - 1
    visited = np.zeros(successor.shape[0], dtype=np.bool_)
    visited[starts] = True
    jump = successor.copy()
    members = np.asarray(starts, dtype=np.int64)
    while members.size and not bool(np.all(jump[starts] == stop)):
        targets = jump[members]
        visited[targets] = True
        visited[stop] = False
        members = np.flatnonzero(visited)
        jump = jump[jump]
    if members.size and bool(np.any(jump[starts] != stop)):  # pragma: no cover - loop invariant
        raise AssertionError("chain walk did not finish")
    visited[stop] = False
    return visited


@dataclass(frozen=True)
class _Chains:
    starts: Positions  # record starts (RDW positions), sorted
    ends: Positions  # record ends (RDW position + length)
    last_end: Positions  # per chain: where its last record ends (or its start if it has none)
    broken: npt.NDArray[np.bool_]  # per chain: the header at last_end is no RDW


def _rdw_chains(buf: Bytes, chain_starts: Positions, chain_ends: Positions) -> _Chains:
    """Walk the RDW chains that start at ``chain_starts`` and should end at ``chain_ends``.

    A chain stops at its end, at a record that runs past its end, or at a position that
    holds no RDW (``broken``; the caller decides whether that is an error or the end of
    the bytes read so far).

    Candidates that lead nowhere (their successor is neither a candidate nor the end of
    their chain) cannot be on a sound chain; pruning passes drop most of the false
    candidates that binary data produces before the doubling walk (passes repeat while
    they still drop a fifth of the candidates). If the pruned walk
    does not reach the end, the walk is repeated unpruned so that the break is found at
    its exact position.
    """
    candidates, lengths = _rdw_candidates(buf)
    if candidates.size and chain_starts.size:
        owner = np.searchsorted(chain_starts, candidates, side="right") - 1
        inside = (owner >= 0) & (candidates + 4 <= chain_ends[np.maximum(owner, 0)])
        candidates, lengths, owner = candidates[inside], lengths[inside], owner[inside]
    else:
        candidates, lengths, owner = _empty(), _empty(), _empty()
    follow = candidates + lengths
    limit = chain_ends[owner] if owner.size else _empty()
    pruned = _walk(candidates, follow, limit, owner, chain_starts, chain_ends, prune=12)
    if not pruned.broken.any():
        return pruned
    return _walk(candidates, follow, limit, owner, chain_starts, chain_ends, prune=0)


def _walk(
    candidates: Positions,
    follow: Positions,
    limit: Positions,
    owner: Positions,
    chain_starts: Positions,
    chain_ends: Positions,
    *,
    prune: int,
) -> _Chains:
    if prune and candidates.size:
        size = int(max(chain_ends.max(), follow.max())) + 1
        for _ in range(prune):
            before = candidates.size
            present = np.zeros(size, dtype=np.bool_)
            present[candidates] = True
            present[chain_starts] = True  # a start is never pruned
            leads = (follow >= limit) | present[follow]
            leads[np.isin(candidates, chain_starts)] = True
            candidates, follow, limit, owner = candidates[leads], follow[leads], limit[leads], owner[leads]
            if candidates.size > 0.8 * before:
                break
    m = candidates.size
    index = np.searchsorted(candidates, follow)
    hit = (index < m) & (follow < limit)
    hit[hit] = candidates[index[hit]] == follow[hit]
    successor = np.append(np.where(hit, index, m), m).astype(np.int64)
    first = np.searchsorted(candidates, chain_starts)
    has_first = (first < m) & (chain_starts < chain_ends)
    has_first[has_first] = candidates[first[has_first]] == chain_starts[has_first]
    on_chain = reachable(successor, first[has_first])[:m]
    starts = candidates[on_chain]
    ends = follow[on_chain]
    chain_of = owner[on_chain]
    # The last record of each chain: the greatest start per chain (starts are sorted).
    last_end = chain_starts.copy()
    if starts.size:
        is_last = np.ones(starts.size, dtype=np.bool_)
        is_last[:-1] = chain_of[1:] != chain_of[:-1]
        last_end[chain_of[is_last]] = ends[is_last]
    broken = last_end < chain_ends
    return _Chains(starts, ends, last_end, broken)


def frame_rdw(buf: Bytes, *, final: bool) -> Frames:
    """Variable-length records, each behind a 4-byte RDW (length incl. the RDW, then 0x0000)."""
    n = buf.shape[0]
    chains = _rdw_chains(buf, np.zeros(1, dtype=np.int64), np.array([n], dtype=np.int64))
    starts, ends = chains.starts, chains.ends
    inside = ends <= n
    complete_starts, complete_ends = starts[inside], ends[inside]
    consumed = int(complete_ends[-1]) if complete_ends.size else 0
    truncated = None
    rule = ""
    if consumed < n:
        over = starts[~inside]
        position = int(over[0]) if over.size else consumed
        if over.size:
            length = int(ends[~inside][0] - position)
            problem = f"RDW says {length} bytes, {n - position} remain in the file"
        else:
            problem = _header_problem(buf, position)
            if position + 4 <= n:
                raise FramingError(position, problem)
        if final:
            truncated = (position, n)
            rule = problem
            consumed = n
        else:
            consumed = position
    return Frames(complete_starts, complete_ends, complete_starts + 4, complete_ends, consumed, truncated, rule)


def _bdw_length(buf: Bytes, position: int) -> int:
    b0 = int(buf[position])
    if b0 & 0x80:  # extended BDW: 31-bit length
        return int.from_bytes(buf[position: position + 4].tobytes(), "big") & 0x7FFFFFFF
    return (b0 << 8) | int(buf[position + 1])


def _bdw_blocks(buf: Bytes) -> tuple[list[int], list[int], int, FramingError | None]:
    """Walk the BDWs (one short loop step per block, not per record): starts and ends of the
    complete blocks, the start of the first block not complete in ``buf``, and the error
    that stopped the walk (raised by the caller after the earlier blocks are checked)."""
    n = buf.shape[0]
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    while position + 4 <= n:
        length = _bdw_length(buf, position)
        if not buf[position] & 0x80 and (buf[position + 2] or buf[position + 3]):
            return starts, ends, position, FramingError(position, _header_problem(buf, position, "BDW"))
        if length < 4:
            return starts, ends, position, FramingError(
                position, f"BDW length {length} (at least 4: the length counts the BDW itself)")
        if position + length > n:
            break
        starts.append(position)
        ends.append(position + length)
        position += length
    return starts, ends, position, None


def frame_bdw_rdw(buf: Bytes, *, final: bool) -> Frames:
    """Variable blocked records (RECFM=VB): BDW-headed blocks of RDW-headed records.

    Every RDW chain must end exactly at its block's end. At the end of the file a block
    cut short keeps its complete records; the record cut by the end is the truncated one.
    """
    n = buf.shape[0]
    block_starts, block_ends, incomplete, bdw_error = _bdw_blocks(buf)
    partial: int | None = None
    rule = ""
    if final and incomplete < n and bdw_error is None:
        partial = incomplete
        if n - incomplete < 4:
            rule = "BDW cut short by the end of the file"
        else:
            rule = f"BDW says {_bdw_length(buf, incomplete)} bytes, {n - incomplete} remain in the file"
            block_starts.append(incomplete)
            block_ends.append(n)
    bs = np.asarray(block_starts, dtype=np.int64) + 4
    be = np.asarray(block_ends, dtype=np.int64)
    chains = _rdw_chains(buf, bs, be)
    starts, ends = chains.starts, chains.ends
    keep = np.ones(starts.size, dtype=np.bool_)
    truncated: tuple[int, int] | None = None
    for k in np.flatnonzero(chains.broken | (chains.last_end > be)):  # loop over bad blocks only
        over = (starts >= bs[k]) & (starts < be[k]) & (ends > be[k])
        if partial is not None and block_starts[k] == partial:
            keep &= ~over
            truncated = (int(starts[over][0]) if over.any() else int(chains.last_end[k]), n)
            continue
        if over.any():
            raise FramingError(int(starts[over][0]),
                               f"RDW length runs past the end of its block (BDW at byte {int(bs[k]) - 4})")
        position = int(chains.last_end[k])
        raise FramingError(position, _header_problem(buf, position))
    if bdw_error is not None:
        raise bdw_error
    if partial is not None and truncated is None:
        # A block cut short: its bytes after the last complete record (at least its BDW when
        # it holds no record; nothing when the cut fell between records — the reject then
        # carries no bytes, but the count of records still tells that the file is cut).
        no_record = n - partial < 4 or bs[-1] >= n
        truncated = (partial, n) if no_record else (n, n)
    starts, ends = starts[keep], ends[keep]
    consumed = n if partial is not None else incomplete
    return Frames(starts, ends, starts + 4, ends, consumed, truncated, rule if truncated else "")


@dataclass(frozen=True)
class Block:
    """A framed block of the file: its bytes, records, and where it lies in the file."""

    data: bytes
    frames: Frames
    file_offset: int  # offset of data[0] in the file
    first_record: int  # 0-based number (in the file) of the block's first record

    @property
    def array(self) -> Bytes:
        return np.frombuffer(self.data, dtype=np.uint8)


def read_blocks(
    handle: BinaryIO,
    path: Path,
    mode: FramingMode,
    *,
    batch_bytes: int,
    lrecl: int | None = None,
    newline: bytes = b"\n",
    strip_cr: bool = True,
    max_text_record: int = MAX_TEXT_RECORD,
    max_records: int | None = None,
    span: tuple[int, int, int] | None = None,
) -> Iterator[Block]:
    """Frame a file block by block; memory stays bounded by ``batch_bytes`` plus one record.

    A text record longer than ``max_text_record`` stops the file (whatever the batch size).
    A block of more than ``max_records`` records is yielded in parts of at most that many
    (the parts share the block's bytes). ``span`` (start, end, records before start): frame
    only those bytes, the handle already at ``start`` (a range at a record boundary).
    """
    if mode == "fixed":
        if not lrecl or lrecl <= 0:
            raise ValueError("fixed framing needs lrecl")
        step = max(batch_bytes // lrecl, 1) * lrecl
    else:
        step = max(batch_bytes, 2 * _RDW_MAX if mode != "text" else 1)
    carry = b""
    offset = 0 if span is None else span[0]
    record = 0 if span is None else span[2]
    left = None if span is None else span[1] - span[0]
    while True:
        if left is None:
            chunk = handle.read(step)
            final = len(chunk) < step
        else:
            chunk = handle.read(min(step, left))
            left -= len(chunk)
            final = left <= 0 or not chunk
        data = carry + chunk if carry else chunk
        if not data:
            return
        array = np.frombuffer(data, dtype=np.uint8)
        try:
            if mode == "fixed":
                assert lrecl is not None
                frames = frame_fixed(len(data), lrecl, final=final)
            elif mode == "rdw":
                frames = frame_rdw(array, final=final)
            elif mode == "bdw-rdw":
                frames = frame_bdw_rdw(array, final=final)
            else:
                frames = frame_text(array, newline, final=final, strip_cr=strip_cr)
        except FramingError as exc:
            raise InputError(str(path), exc.rule, offset=offset + exc.position) from None
        if frames.consumed == 0 and not final:
            if mode == "text" and len(data) > max_text_record:
                raise InputError(str(path), f"no newline {newline.hex()} within {max_text_record} bytes "
                                            "— wrong newline option?", offset=offset)
            carry = data
            continue
        if mode == "text" and frames.count:
            over = np.flatnonzero(frames.raw_ends - frames.raw_starts > max_text_record)
            if over.size:
                raise InputError(str(path), f"a record runs over {max_text_record} bytes without newline "
                                            f"{newline.hex()} — wrong newline option?",
                                 offset=offset + int(frames.raw_starts[over[0]]))
        if frames.count > (max_records or frames.count):
            assert max_records is not None
            for start in range(0, frames.count, max_records):  # loop over parts of a block
                yield Block(data, frames.part(start, start + max_records), offset, record + start)
        elif frames.count or frames.truncated is not None:
            yield Block(data, frames, offset, record)
        record += frames.count + (1 if frames.truncated is not None else 0)
        carry = data[frames.consumed:]
        offset += frames.consumed
        if final:
            if carry:  # pragma: no cover - framers consume everything when final
                raise AssertionError("bytes left after the final block")
            return
