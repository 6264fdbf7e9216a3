"""The numbers behind the entity draw, computed where the candidates are: in PostgreSQL, or in numpy.

``qualitygov.inspection.draw`` explains the method; this module holds its arithmetic:

- ``lookup3_hash64``: the published key function, a plain-Python reference implementation of
  PostgreSQL's built-in ``hashtextextended(text, bigint)`` — Bob Jenkins' lookup3 hash as PostgreSQL
  uses it in ``hash_bytes_extended`` (``src/common/hashfn.c``; lookup3 is public domain:
  http://burtleburtle.net/bob/c/lookup3.c). Readable, one value at a time: what an auditor re-implements;
- ``lookup3_hash64_many``: the same function vectorised with numpy, for candidates streamed to Python
  (SQLite, or a risk-class function that only Python can call);
- the SQL that lets PostgreSQL compute the candidate count, the candidate-set digest, the count per
  risk class and the few candidates that can be among the drawn, in one statement (one snapshot),
  so that three million rows never leave the database.

The two implementations are tested against each other and against PostgreSQL itself
(``qualitygov/inspection/tests/test_draw.py``); before using the database's function, every draw
asks PostgreSQL for one hash and compares it with ``lookup3_hash64``, and computes the draw in
Python if they differ (a big-endian server, or a future PostgreSQL that changed the function).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DIGEST_SEEDS", "TOP_BITS", "candidate_set_digest", "digest_from_sums", "lookup3_hash64",
    "lookup3_hash64_many", "top_bits", "uniform_from_top",
]

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
# u is built from the top 52 bits of the 64-bit hash: (t + 0.5) / 2**52 is then exact in a double
# (53 significant bits) and strictly inside (0, 1).
TOP_BITS = 52
TOP_MAX = (1 << TOP_BITS) - 1
TOP_SCALE = float(1 << TOP_BITS)
# The two fixed seeds of the candidate-set digest: the first 128 bits of the fractional part of pi
# in hexadecimal (nothing-up-my-sleeve constants, as in Blowfish's P-array), each below 2**63 so
# that PostgreSQL takes them as bigint.
DIGEST_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344)
DIGEST_LABEL = "qualitygov candidate multiset v2"
# A fixed 18-character probe (the length of a USCC: one 12-byte block and a 6-byte tail) that every
# PostgreSQL draw hashes in the database and in Python before trusting the database's function.
PROBE = "91220000MA0ZZZZZ9X"


# --- the reference implementation ----------------------------------------------------------------

def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & M32


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = (a - c) & M32
    a ^= _rot(c, 4)
    c = (c + b) & M32
    b = (b - a) & M32
    b ^= _rot(a, 6)
    a = (a + c) & M32
    c = (c - b) & M32
    c ^= _rot(b, 8)
    b = (b + a) & M32
    a = (a - c) & M32
    a ^= _rot(c, 16)
    c = (c + b) & M32
    b = (b - a) & M32
    b ^= _rot(a, 19)
    a = (a + c) & M32
    c = (c - b) & M32
    c ^= _rot(b, 4)
    b = (b + a) & M32
    return a, b, c


def _final(a: int, b: int, c: int) -> tuple[int, int, int]:
    c ^= b
    c = (c - _rot(b, 14)) & M32
    a ^= c
    a = (a - _rot(c, 11)) & M32
    b ^= a
    b = (b - _rot(a, 25)) & M32
    c ^= b
    c = (c - _rot(b, 16)) & M32
    a ^= c
    a = (a - _rot(c, 4)) & M32
    b ^= a
    b = (b - _rot(a, 14)) & M32
    c ^= b
    c = (c - _rot(b, 24)) & M32
    return a, b, c


def lookup3_hash64(data: bytes | str, seed: int = 0) -> int:
    """The 64-bit lookup3 hash of ``data`` with a 64-bit ``seed``, as an unsigned integer.

    Equal, modulo 2**64, to PostgreSQL's ``hashtextextended(data, seed)`` (PostgreSQL 11 and later,
    little-endian servers, text in a deterministic collation; PostgreSQL returns it as a signed
    bigint). ``str`` is hashed as its UTF-8 bytes. All arithmetic is on unsigned 32-bit words:

    1. ``a = b = c = 0x9E3779B9 + len(data) + 3923095``;
    2. if ``seed`` is not 0: ``a += seed >> 32``, ``b += seed & 0xFFFFFFFF``, ``mix(a, b, c)``;
    3. while 12 or more bytes remain: add the next three 4-byte little-endian words to a, b, c and
       ``mix``;
    4. the last 0–11 bytes, zero-padded to 12 and read as three little-endian words w0, w1, w2:
       ``a += w0`` if any byte remains, ``b += w1`` if more than 4, ``c += w2 << 8`` if more than 8
       (the lowest byte of c is left alone);
    5. ``final(a, b, c)``; the hash is ``b << 32 | c``.

    ``mix`` and ``final`` are lookup3's, with ``rot(x, k)`` the 32-bit left rotation::

        mix:   a -= c; a ^= rot(c, 4);  c += b;     final: c ^= b; c -= rot(b, 14);
               b -= a; b ^= rot(a, 6);  a += c;            a ^= c; a -= rot(c, 11);
               c -= b; c ^= rot(b, 8);  b += a;            b ^= a; b -= rot(a, 25);
               a -= c; a ^= rot(c, 16); c += b;            c ^= b; c -= rot(b, 16);
               b -= a; b ^= rot(a, 19); a += c;            a ^= c; a -= rot(c, 4);
               c -= b; c ^= rot(b, 4);  b += a;            b ^= a; b -= rot(a, 14);
                                                           c ^= b; c -= rot(b, 24);
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    seed &= M64
    length = len(data)
    a = b = c = (0x9E3779B9 + length + 3923095) & M32
    if seed:
        a = (a + (seed >> 32)) & M32
        b = (b + (seed & M32)) & M32
        a, b, c = _mix(a, b, c)
    offset = 0
    while length - offset >= 12:
        a = (a + int.from_bytes(data[offset:offset + 4], "little")) & M32
        b = (b + int.from_bytes(data[offset + 4:offset + 8], "little")) & M32
        c = (c + int.from_bytes(data[offset + 8:offset + 12], "little")) & M32
        a, b, c = _mix(a, b, c)
        offset += 12
    rest = length - offset
    if rest:
        a = (a + int.from_bytes(data[offset:offset + 4], "little")) & M32
    if rest > 4:
        b = (b + int.from_bytes(data[offset + 4:offset + 8], "little")) & M32
    if rest > 8:
        c = (c + (int.from_bytes(data[offset + 8:offset + 11], "little") << 8)) & M32
    a, b, c = _final(a, b, c)
    return (b << 32) | c


def top_bits(hash64: int) -> int:
    """The top 52 bits of an (unsigned or PostgreSQL-signed) 64-bit hash."""
    return (hash64 & M64) >> (64 - TOP_BITS)


def uniform_from_top(top: int) -> float:
    """u = (t + 0.5) / 2**52 for the top 52 bits t: exact in a double, strictly inside (0, 1)."""
    return (top + 0.5) / TOP_SCALE


def digest_from_sums(count: int, sum1: int, sum2: int) -> str:
    """The candidate-set digest from the count and the two hash sums (each taken modulo 2**64)."""
    text = f"{DIGEST_LABEL}\n{count}\n{sum1 & M64:016x}\n{sum2 & M64:016x}\n"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def candidate_set_digest(usccs: Sequence[str]) -> str:
    """The candidate-set digest of a list of USCCs, in any order (the published definition)."""
    sum1 = sum(lookup3_hash64(uscc, DIGEST_SEEDS[0]) for uscc in usccs)
    sum2 = sum(lookup3_hash64(uscc, DIGEST_SEEDS[1]) for uscc in usccs)
    return digest_from_sums(len(usccs), sum1, sum2)


# --- the same function on numpy arrays -----------------------------------------------------------
# numpy is imported when first needed (streamed draws only), as the project does for heavy imports.

def _numpy():
    import numpy

    return numpy


class _Lanes:
    """lookup3's three 32-bit lanes for n values at once, with scratch space so that the rounds
    allocate nothing (numpy's uint32 arithmetic wraps modulo 2**32, like C's)."""

    def __init__(self, n: int, start: int):
        self.np = np = _numpy()
        self.a = np.full(n, start, dtype=np.uint32)
        self.b = self.a.copy()
        self.c = self.a.copy()
        self._t = np.empty(n, dtype=np.uint32)
        self._r = np.empty(n, dtype=np.uint32)

    def _rot(self, x: np.ndarray, k: int) -> np.ndarray:
        np = self.np
        np.left_shift(x, np.uint32(k), out=self._t)
        np.right_shift(x, np.uint32(32 - k), out=self._r)
        np.bitwise_or(self._t, self._r, out=self._r)
        return self._r

    def _sub_xor_add(self, x, y, z, k):  # x -= y; x ^= rot(y, k); y += z
        np = self.np
        np.subtract(x, y, out=x)
        np.bitwise_xor(x, self._rot(y, k), out=x)
        np.add(y, z, out=y)

    def mix(self) -> None:
        a, b, c = self.a, self.b, self.c
        self._sub_xor_add(a, c, b, 4)
        self._sub_xor_add(b, a, c, 6)
        self._sub_xor_add(c, b, a, 8)
        self._sub_xor_add(a, c, b, 16)
        self._sub_xor_add(b, a, c, 19)
        self._sub_xor_add(c, b, a, 4)

    def _xor_sub(self, x, y, k):  # x ^= y; x -= rot(y, k)
        np = self.np
        np.bitwise_xor(x, y, out=x)
        np.subtract(x, self._rot(y, k), out=x)

    def final(self) -> None:
        a, b, c = self.a, self.b, self.c
        self._xor_sub(c, b, 14)
        self._xor_sub(a, c, 11)
        self._xor_sub(b, a, 25)
        self._xor_sub(c, b, 16)
        self._xor_sub(a, c, 4)
        self._xor_sub(b, a, 14)
        self._xor_sub(c, b, 24)


def _hash_words(words: np.ndarray, length: int, seeds: Sequence[int]) -> np.ndarray:
    """lookup3_hash64 for each seed of n values of ``length`` bytes, given as little-endian words
    (3·(length // 12 + 1) rows of n, zero-padded); returns len(seeds) × n uint64."""
    np = _numpy()
    n = words.shape[1]
    blocks = length // 12
    rest = length - 12 * blocks
    result = np.empty((len(seeds), n), dtype=np.uint64)
    for row, seed in enumerate(seeds):
        seed &= M64
        lanes = _Lanes(n, (0x9E3779B9 + length + 3923095) & M32)
        a, b, c = lanes.a, lanes.b, lanes.c
        if seed:
            a += np.uint32(seed >> 32)
            b += np.uint32(seed & M32)
            lanes.mix()
        for block in range(blocks):
            a += words[3 * block]
            b += words[3 * block + 1]
            c += words[3 * block + 2]
            lanes.mix()
        if rest:
            a += words[3 * blocks]
        if rest > 4:
            b += words[3 * blocks + 1]
        if rest > 8:
            c += words[3 * blocks + 2] << np.uint32(8)
        lanes.final()
        np.left_shift(b.astype(np.uint64), np.uint64(32), out=result[row])
        result[row] |= c
    return result


def _words(rows: np.ndarray) -> np.ndarray:
    """n × length bytes → 3·(length // 12 + 1) × n little-endian 32-bit words, zero-padded."""
    np = _numpy()
    n, length = rows.shape
    padded = np.zeros((n, (length // 12 + 1) * 12), dtype=np.uint8)
    padded[:, :length] = rows
    return np.ascontiguousarray(padded.view("<u4").T)


def lookup3_hash64_many(values: Sequence[str], seeds: Sequence[int]) -> np.ndarray:
    """``lookup3_hash64`` of every string (UTF-8) for every seed: a len(seeds) × len(values) numpy
    uint64 array, values in the order given."""
    np = _numpy()
    n = len(values)
    if n == 0:
        return np.empty((len(seeds), 0), dtype=np.uint64)
    # The usual case, checked in numpy rather than string by string: every value has the same
    # number of ASCII characters (USCCs: 18, a database constraint) and none holds a newline.
    length = len(values[0])
    joined = "\n".join(values) + "\n"
    if len(joined) == n * (length + 1) and joined.isascii():
        rows = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(n, length + 1)
        if np.count_nonzero(rows == 10) == n and (rows[:, length] == 10).all():
            return _hash_words(_words(rows[:, :length]), length, seeds)
    encoded = [value.encode("utf-8") for value in values]
    result = np.empty((len(seeds), n), dtype=np.uint64)
    by_length: dict[int, list[int]] = {}
    for index, value in enumerate(encoded):
        by_length.setdefault(len(value), []).append(index)
    for size, indexes in by_length.items():
        rows = np.frombuffer(b"".join(encoded[i] for i in indexes), dtype=np.uint8).reshape(len(indexes), size)
        result[:, np.asarray(indexes, dtype=np.intp)] = _hash_words(_words(rows), size, seeds)
    return result


# --- PostgreSQL ----------------------------------------------------------------------------------

def pg_hash(column: str, seed: int) -> str:
    """SQL for hashtextextended of a text column (byte-wise: COLLATE "C") with a literal seed."""
    return f'hashtextextended(({column})::text COLLATE "C", ({int(seed)})::bigint)'


def pg_top(column: str, seed: int) -> str:
    """SQL for the top 52 bits of the column's hash, as a non-negative bigint."""
    return f"(({pg_hash(column, seed)} >> {64 - TOP_BITS}) & {TOP_MAX})"


# A partial-aggregate-capable array aggregate for PostgreSQL before 16, whose array_agg cannot be
# split across parallel workers: the same built-in functions array_agg uses, as a temporary
# aggregate of the session (no schema change; see ``draw._pg_collector``).
PG_COLLECT = "pg_temp.qualitygov_draw_collect"
PG_COLLECT_SIGNATURE = f"{PG_COLLECT}(text)"
PG_CREATE_COLLECT = (f"CREATE AGGREGATE {PG_COLLECT} (text) (SFUNC = array_append, STYPE = text[], "
                     f"COMBINEFUNC = array_cat, PARALLEL = SAFE)")
# Separates the fields of a collected candidate (the unit separator, which no id, USCC or hash holds;
# the name comes last, so it may hold anything).
FIELD_SEPARATOR = "\x1f"


def _pg_classes(table, default_class: str) -> tuple[str, list, str, str, list]:
    """The class expression and its parameters, the two joins (grouped: one row per entity with the
    number of class rows; plain) and the joins' parameters."""
    if table is None:
        return "%s", [default_class], "", "", []
    class_sql, class_params = table.queryset().query.sql_with_params()
    grouped = (f" LEFT JOIN (SELECT s.draw_entity, MIN(s.draw_class) AS draw_class, COUNT(*) AS n "
               f"FROM ({class_sql}) s GROUP BY s.draw_entity) r ON r.draw_entity = e.id")
    plain = f" LEFT JOIN ({class_sql}) r ON r.draw_entity = e.id"
    return "COALESCE((r.draw_class)::text, %s)", [default_class], grouped, plain, list(class_params)


def _pg_selection(table, seed: int, floors: dict[str, int], default_floor: int, risk: str,
                  risk_params: list) -> tuple[list[str], list]:
    """Conditions (and their parameters) that keep the candidates whose top 52 bits reach their
    class's floor; none when every floor is 0."""
    top = pg_top("e.uscc", seed)
    # Without a class table every candidate is in the default class.
    all_floors = [*floors.values(), default_floor] if table is not None else [default_floor]
    if max(all_floors) == 0:
        return [], []
    # The BETWEEN is what the planner estimates as selective (0.5 %), so it scans in parallel.
    conditions = [f"{top} BETWEEN {min(all_floors)} AND {TOP_MAX}"]
    params: list = []
    if table is not None and len(set(all_floors)) > 1:
        cases = " ".join(f"WHEN %s THEN {floor}" for floor in floors.values())
        conditions.append(f"{top} >= CASE {risk} {cases} ELSE {default_floor} END")
        params = risk_params + list(floors)
    return conditions, params


def pg_collect_statement(base_sql: str, base_params: list, exclude_sql: str, exclude_params: list, *, table,
                         seed: int, floors: dict[str, int], default_floor: int, collect: str,
                         default_class: str = "B") -> tuple[str, list]:
    """One PostgreSQL statement, one parallel scan: per risk class, the number of candidates, the sums
    of their two digest hashes, the most class rows any candidate has (with a class table; more than
    1 is an error), the candidates whose top 52 bits reach their class's floor (``floors``, other
    classes ``default_floor``) collected by the array aggregate ``collect`` as
    "id␟USCC␟draw hash␟name".

    ``base_sql`` is the candidates' query (columns id, uscc, name), ``exclude_sql`` a ``WHERE`` on
    ``e.id`` or empty. ``collect`` must allow partial aggregation (``array_agg`` from PostgreSQL 16,
    ``PG_COLLECT`` before) for the scan to run in parallel.
    """
    risk, risk_params, grouped, _plain, class_params = _pg_classes(table, default_class)
    conditions, condition_params = _pg_selection(table, seed, floors, default_floor, risk, risk_params)
    sums = ", ".join(f"sum({pg_hash('e.uscc', digest_seed)})" for digest_seed in DIGEST_SEEDS)
    duplicates = "max(r.n)" if table is not None else "NULL::bigint"
    separator = f"chr({ord(FIELD_SEPARATOR)})"
    item = (f"(e.id)::text || {separator} || (e.uscc)::text || {separator} || ({pg_hash('e.uscc', seed)})::text "
            f"|| {separator} || COALESCE((e.name)::text, '')")
    selected = f" FILTER (WHERE {' AND '.join(conditions)})" if conditions else ""
    sql = (f"SELECT {risk}, count(*), {sums}, {duplicates}, {collect}({item}){selected} "
           f"FROM ({base_sql}) e{grouped}{exclude_sql}" + (" GROUP BY 1" if table is not None else ""))
    return sql, risk_params + condition_params + base_params + class_params + exclude_params


def pg_tally_statement(base_sql: str, base_params: list, exclude_sql: str, exclude_params: list, *, table,
                       seed: int, floors: dict[str, int], default_floor: int, default_class: str = "B",
                       limit: int | None) -> tuple[str, list]:
    """``pg_collect_statement`` for a PostgreSQL without a parallel array aggregate: the same
    results from two parallel scans in one statement (one snapshot), told apart by the first column:

    0. per risk class: count, digest sums and duplicates, as above;
    1. the candidates whose top 52 bits reach their class's floor, one row each — at most ``limit``.

    Columns: part, id, USCC, class, number (count, hash), sum 1, sum 2, duplicates, name.
    """
    risk, risk_params, grouped, plain, class_params = _pg_classes(table, default_class)
    conditions, condition_params = _pg_selection(table, seed, floors, default_floor, risk, risk_params)
    sums = ", ".join(f"sum({pg_hash('e.uscc', digest_seed)})" for digest_seed in DIGEST_SEEDS)
    duplicates = "max(r.n)" if table is not None else "NULL::bigint"
    parts = [f"SELECT 0, NULL::bigint, NULL::text, {risk}, count(*), {sums}, {duplicates}, NULL::text "
             f"FROM ({base_sql}) e{grouped}{exclude_sql}" + (" GROUP BY 4" if table is not None else "")]
    params = risk_params + base_params + class_params + exclude_params
    condition = ""
    if conditions:
        condition = (" AND " if exclude_sql else " WHERE ") + " AND ".join(conditions)
    part1 = (f"SELECT 1, e.id, (e.uscc)::text, {risk}, {pg_hash('e.uscc', seed)}, NULL::numeric, NULL::numeric, "
             f"NULL::bigint, (e.name)::text FROM ({base_sql}) e{plain}{exclude_sql}{condition}")
    if limit is not None:
        part1 += f" LIMIT {int(limit)}"
    parts.append(f"({part1})")
    params += risk_params + base_params + class_params + exclude_params + condition_params
    return " UNION ALL ".join(parts), params


def pg_probe_statement(seed: int) -> str:
    """The server's hash of ``PROBE`` with the seed, to compare with ``lookup3_hash64``."""
    return f"SELECT {pg_hash(repr(PROBE), seed)}"
