"""The random draw (双随机): which entities are spot-checked and which inspectors sample them.

Both draws are reproducible from their inputs alone: the same seed and the same candidates give the
same ordered list, on SQLite and on PostgreSQL, whatever order the database returns rows in, and
anyone holding the published record (seed, parameters, candidate list or digest, algorithm version)
can recompute every number with the functions below.

Entities (``ALGORITHM_VERSION`` ``es-a-res/pg-lookup3-64/v2``)
---------------------------------------------------------------
Each candidate entity, identified by its USCC (18 ASCII characters), gets

1. ``h = lookup3_hash64(USCC, seed)``: the 64-bit lookup3 hash of the USCC's bytes with the seed as
   the 64-bit seed — PostgreSQL's built-in ``hashtextextended(uscc, seed)`` read as unsigned; the
   algorithm is spelt out step by step in ``qualitygov.inspection.draw_sql.lookup3_hash64``;
2. ``u = ((h >> 12) + 0.5) / 2**52``: the top 52 bits, centred in their cell — exact in a double
   and strictly inside (0, 1);
3. the Efraimidis–Spirakis key ``key = u ** (1 / w)``, ``w`` the weight of its credit-risk class
   (``class_ratios``; ``key = u`` when ``w = 1``; ``**`` is the C library's ``pow``, as Python's).

The ``count`` candidates with the largest keys are drawn, largest first, ties (vanishingly rare)
broken by the larger USCC: weighted sampling without replacement (P. S. Efraimidis and
P. G. Spirakis, "Weighted random sampling with a reservoir", Information Processing Letters 97(5),
2006, pp. 181–185, algorithm A-Res). A class of weight 0 is never drawn. If a drawn entity cannot be
sampled (closed, moved), the next entity of a longer draw with the same seed is its reproducible
substitute.

Why lookup3: it is built into PostgreSQL (``hashtextextended``, which hash-partitioned tables
depend on, so it is kept stable across versions; every draw checks it anyway, see below) and costs
tens of nanoseconds a row, where ``md5()`` costs over a microsecond — on three million candidates
more than the whole ``ORDER BY random()`` draw it is measured against (``bench/bench_draw.py``). It
mixes well: sequential registration numbers give uniform ``u`` and seeds give unrelated lists
(tested), which is what a draw whose seed nobody knows in advance needs; it is not a cryptographic
hash, and need not be — the seed, not the hash, is the secret until the draw.

Where the numbers are computed: on PostgreSQL, in the database, so that millions of candidates never
travel to Python. One statement (one snapshot, one parallel scan) returns per risk class the number
of candidates and their digest sums, and collects only the candidates whose key can reach the
drawn list: those whose top 52 bits reach a per-class floor computed in Python from a key threshold
``t`` (the smallest ``T`` with ``key(T) >= t``, so every candidate left out has a key below ``t``
and every one returned at least ``t``). Python then computes the keys of the returned candidates
with the formula above and keeps the best ``count``. ``t`` is guessed from the planner's row
estimate (about 1.5 × ``count`` rows expected above it); if fewer than ``count`` candidates come
back, the statement runs again with ``t`` from the exact counts, and finally with no threshold at
all — the result never depends on the guess. Collecting rows inside a parallel aggregate needs an
array aggregate that PostgreSQL can split across workers: ``array_agg`` from PostgreSQL 16; before,
a temporary aggregate of the session made of the same built-in functions (``array_append``,
``array_cat``), created on first use — no schema change. Where it cannot be created (no TEMP
privilege, a read-only transaction) the statement takes two parallel scans instead (the counts, and
the candidates above the threshold), about a third slower.

Before trusting the database's function, each draw asks PostgreSQL for the hash of a fixed probe
and compares it with ``lookup3_hash64``; if they differ (a big-endian server, a PostgreSQL that
changed the function), and on SQLite, and when the risk classes come from a Python function, the
candidates are streamed as (id, USCC) and hashed with numpy (``lookup3_hash64_many``), in O(count)
memory. Every way gives the same list; the tests check it.

Risk classes come from ``risk_classes``: ``None`` (everyone B), a function mapping a list of entity
ids to their classes (Python only), or a ``RiskClassTable`` — a queryset of (entity, class) pairs
that the database joins to the candidates.

The candidate-set digest (v2) binds a draw to the set it drew from, in any order:
``SHA-256("qualitygov candidate multiset v2\\n{n}\\n{S1:016x}\\n{S2:016x}\\n")`` with ``n`` the
number of candidates and ``S1``, ``S2`` the sums modulo 2**64 of ``lookup3_hash64(USCC, s)`` over
the candidates for the fixed seeds ``s`` in ``draw_sql.DIGEST_SEEDS`` (``candidate_set_digest``).
Strength: any change of the set made without the intent to defeat the digest — an entity more,
less or different, a different filter — changes it except with probability about 2**-128 (the two
hashes behave statistically like independent random functions). It is
not collision-resistant against someone who crafts registry rows on purpose: lookup3 is not a
cryptographic hash, and even with one, an additive 128-bit multiset hash falls to Wagner's
generalised-birthday attack (D. Wagner, "A Generalized Birthday Problem", CRYPTO 2002) by one who
can add on the order of a thousand entities with chosen USCCs. The digest of v1 (SHA-256 over the
sorted USCCs) was collision-resistant but needs every USCC sorted, which costs more than the whole
draw (a sort of three million strings); a record whose candidates must be proven against a hostile
registry should publish the candidate list itself, from which anyone recomputes keys and digest.

Inspectors
----------
Inspectors are few: each gets ``u`` from BLAKE2b-64 (RFC 7693) keyed with the seed's decimal digits
over ``task_key + "\\x1f" + username`` (top 53 bits, centred: ``uniform_key``), the ``count`` largest
are drawn, and the candidate digest is SHA-256 over the sorted usernames (``candidate_digest``) —
unchanged since v1, whose inspector records therefore re-run as identical.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import math
import secrets
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from itertools import batched
from operator import or_

from django.db import DatabaseError, connections, models, transaction
from django.db.models import Exists, F, OuterRef
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from qualitygov.core.models import User, region_prefix, region_q
from qualitygov.core.roles import Role
from qualitygov.core.text import join_list
from qualitygov.inspection import draw_sql
from qualitygov.inspection.draw_sql import (
    DIGEST_SEEDS,
    M64,
    TOP_BITS,
    TOP_MAX,
    TOP_SCALE,
    candidate_set_digest,
    digest_from_sums,
    lookup3_hash64,
    lookup3_hash64_many,
    top_bits,
    uniform_from_top,
)
from qualitygov.registry.models import MarketEntity, Product

__all__ = [
    "ALGORITHM_VERSION", "DEFAULT_CLASS_RATIOS", "DrawError", "DrawResult", "DrawnEntity", "DrawnInspector",
    "InspectorDrawResult", "RiskClassTable", "candidate_digest", "candidate_set_digest", "draw_entities",
    "draw_inspectors", "entity_candidates", "entity_key", "entity_uniform_key", "inspector_pool", "new_seed",
    "rerun_draw", "risk_class_table", "run_draw", "run_entity_draw", "run_inspector_draw", "uniform_key",
]

# Stored with every draw record; change it whenever the numbers a seed produces would change.
ALGORITHM_VERSION = "es-a-res/pg-lookup3-64/v2"
# Versions whose records give the same numbers today, per kind: v2 changed only the entity draw.
COMPATIBLE_VERSIONS = {"entities": {ALGORITHM_VERSION},
                       "inspectors": {ALGORITHM_VERSION, "es-a-res/blake2b-64/v1"}}

# Weights per credit-risk class (issue 3, item 3): A lowered, B normal, C raised, D sharply raised.
DEFAULT_CLASS_RATIOS: dict[str, float] = {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}
DEFAULT_CLASS = "B"
DEFAULT_STATUSES = (MarketEntity.Status.OPERATING.value,)
# Rows fetched per round trip when candidates are streamed to Python.
CHUNK_SIZE = 20_000
# Entity ids per query when a risk-class table is called as a function.
IN_BATCH = 900

RiskClassFunction = Callable[[list[int]], dict[int, str]]


class DrawError(ValueError):
    """A draw that cannot be made as asked; the message is for the officer who asked."""


def _seed_key(seed: int) -> bytes:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise DrawError(_("随机种子必须是 0 到 2^63−1 之间的整数。"))
    # The ASCII decimal digits of the seed (at most 19 bytes; BLAKE2b keys may have up to 64).
    return str(seed).encode("ascii")


def _hasher(seed: int):
    return hashlib.blake2b(key=_seed_key(seed), digest_size=8)


def _u_from_digest(digest: bytes) -> float:
    # The top 53 bits of the 64-bit hash, centred in their cell, strictly inside (0, 1).
    return ((int.from_bytes(digest, "big") >> 11) + 0.5) / 9007199254740992.0  # 2 ** 53


def uniform_key(seed: int, identifier: str) -> float:
    """An inspector's number u in (0, 1): BLAKE2b-64 keyed with the seed's decimal digits, over the
    identifier's UTF-8 bytes, top 53 bits. Published so that anyone can check a draw by hand."""
    hasher = _hasher(seed)
    hasher.update(identifier.encode("utf-8"))
    return _u_from_digest(hasher.digest())


def entity_uniform_key(seed: int, uscc: str) -> float:
    """An entity's number u in (0, 1): ``(lookup3_hash64(uscc, seed) >> 12) + 0.5) / 2**52``."""
    _seed_key(seed)
    return uniform_from_top(top_bits(lookup3_hash64(uscc, seed)))


def _power(u: float, exponent: float) -> float:
    # u ** (1 / w) with 1 / w computed once per class; w = 1 leaves u exactly as it is.
    return u if exponent == 1.0 else u ** exponent


def entity_key(seed: int, uscc: str, weight: float = 1.0) -> float:
    """An entity's Efraimidis–Spirakis key ``u ** (1 / weight)``: the draw takes the largest."""
    return _power(entity_uniform_key(seed, uscc), 1.0 / weight)


def candidate_digest(identifiers: Iterable[str]) -> str:
    """SHA-256 over the identifiers in ascending order, one per line (``\\n`` after each): the
    inspector draw's candidate digest. (Entity draws use ``candidate_set_digest``.)"""
    digest = hashlib.sha256()
    for identifier in sorted(identifiers):
        digest.update(identifier.encode("utf-8") + b"\n")
    return digest.hexdigest()


# --- risk classes --------------------------------------------------------------------------------

class RiskClassTable:
    """Credit-risk classes the database can join to the candidates: made by ``risk_class_table``
    from a module-level function returning a queryset with one row per classified entity.

    Also callable like a risk-class function (a list of entity ids → their classes), so code that
    expects one keeps working. Stored in a draw record by its path, like a function.
    """

    def __init__(self, factory: Callable[[], models.QuerySet], *, entity_field: str, class_field: str):
        functools.update_wrapper(self, factory)
        self.factory = factory
        self.entity_field = entity_field
        self.class_field = class_field

    def queryset(self) -> models.QuerySet:
        """Rows (``draw_entity``, ``draw_class``): the entity id and its class."""
        return self.factory().order_by().values(draw_entity=F(self.entity_field), draw_class=F(self.class_field))

    def __call__(self, ids: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for batch in batched(ids, IN_BATCH):
            rows = self.factory().order_by().filter(**{f"{self.entity_field}__in": batch})
            found.update((pk, str(cls)) for pk, cls in rows.values_list(self.entity_field, self.class_field))
        return found


def risk_class_table(*, entity_field: str = "entity", class_field: str = "risk_class"):
    """Decorate a module-level function returning a queryset of classified entities (``entity_field``
    = the entity or its id, ``class_field`` = "A" … "D"; at most one row per entity) so that a draw
    joins the classes in SQL::

        @risk_class_table(entity_field="entity", class_field="risk_class")
        def current_credit_classes():
            return CreditRating.objects.filter(current=True)

        draw_entities(seed=…, count=…, risk_classes=current_credit_classes)
    """
    def decorate(factory: Callable[[], models.QuerySet]) -> RiskClassTable:
        return RiskClassTable(factory, entity_field=entity_field, class_field=class_field)
    return decorate


# --- entities ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DrawnEntity:
    rank: int
    entity_id: int
    uscc: str
    name: str
    risk_class: str
    key: float

    def as_json(self) -> dict:
        return {"rank": self.rank, "entity_id": self.entity_id, "uscc": self.uscc, "name": self.name,
                "risk_class": self.risk_class, "key": self.key}


@dataclass
class DrawResult:
    """An entity draw: the ordered drawn list and what it was drawn from."""

    seed: int
    parameters: dict
    items: list[DrawnEntity]
    candidate_count: int
    candidate_digest: str
    candidate_classes: dict[str, int]
    notes: list[str] = field(default_factory=list)
    algorithm: str = ALGORITHM_VERSION

    @property
    def usccs(self) -> list[str]:
        return [item.uscc for item in self.items]

    @property
    def drawn_classes(self) -> dict[str, int]:
        return dict(sorted(Counter(item.risk_class for item in self.items).items()))

    def inputs_json(self) -> dict:
        return {**self.parameters, "seed": self.seed, "candidate_count": self.candidate_count,
                "candidate_digest": self.candidate_digest, "candidate_classes": self.candidate_classes}

    def outputs_json(self) -> dict:
        return {"items": [item.as_json() for item in self.items], "drawn_classes": self.drawn_classes,
                "notes": self.notes}


def _category_q(codes: Collection[str]) -> models.Q:
    # A group code selects every category under it, as the registry's product filter does.
    return reduce(or_, (models.Q(category__code__startswith=code) for code in codes))


def entity_candidates(*, categories: Collection[str] | None = None, region_prefix: str | None = None,
                      statuses: Collection[str] = DEFAULT_STATUSES) -> models.QuerySet:
    """The registry entities a draw chooses from: status, region (code range) and product category."""
    queryset = MarketEntity.objects.filter(status__in=list(statuses))
    if region_prefix:
        queryset = queryset.filter(region_q("region_id", region_prefix))
    if categories:
        queryset = queryset.filter(Exists(Product.objects.filter(_category_q(categories), producer=OuterRef("pk"))))
    return queryset


def _validate_ratios(class_ratios: dict[str, float]) -> dict[str, float]:
    ratios = {str(name): float(weight) for name, weight in class_ratios.items()}
    if DEFAULT_CLASS not in ratios:
        raise DrawError(_("抽取比例必须包含 %(cls)s 类。") % {"cls": DEFAULT_CLASS})
    for name, weight in ratios.items():
        if not weight >= 0 or weight == float("inf"):
            raise DrawError(_("信用风险 %(cls)s 类的抽取比例必须是非负数。") % {"cls": name})
    return dict(sorted(ratios.items()))


def _function_path(function: Callable | None) -> str | None:
    if function is None:
        return None
    return f"{function.__module__}.{function.__qualname__}"


class _Keys:
    """Keys and thresholds per risk class: exponents 1 / w (None for weight 0), the key of the top
    52 bits of a hash, and the smallest top 52 bits whose key reaches a given key."""

    def __init__(self, ratios: dict[str, float]):
        self.exponents = {name: (1.0 / weight if weight > 0 else None) for name, weight in ratios.items()}
        self.default = self.exponents[DEFAULT_CLASS]
        self._floors: dict[tuple[float | None, float], int] = {}

    def exponent(self, risk_class: str) -> float | None:
        return self.exponents.get(risk_class, self.default)

    def positive(self) -> dict[str, float]:
        return {name: exponent for name, exponent in self.exponents.items() if exponent is not None}

    def floor(self, exponent: float | None, threshold: float) -> int:
        """The smallest top T (0 … 2**52) with ``key(T) >= threshold``; 2**52 when none reaches it.

        Binary search with the very formula of the keys, so it relies only on ``pow`` being monotone:
        every top below T has a key below ``threshold``."""
        if exponent is None:
            return TOP_MAX + 1
        if threshold <= 0.0:
            return 0
        cached = self._floors.get((exponent, threshold))
        if cached is not None:
            return cached
        low, high = 0, TOP_MAX + 1  # invariant: key(low − 1) < threshold, key(high) >= threshold
        while low < high:
            middle = (low + high) // 2
            if _power(uniform_from_top(middle), exponent) >= threshold:
                high = middle
            else:
                low = middle + 1
        self._floors[(exponent, threshold)] = low
        return low


@dataclass
class _Tally:
    """What a pass over the candidates yields: counts and digest sums, and a pool of
    (key, USCC, id, class) that contains the best ``count`` keys."""

    count: int = 0
    classes: Counter = field(default_factory=Counter)
    sum1: int = 0
    sum2: int = 0
    pool: list[tuple[float, str, int, str]] = field(default_factory=list)
    # Names of the pool's entities when the pass brought them (PostgreSQL), else looked up after.
    names: dict[int, str] | None = None


def draw_entities(*, seed: int, count: int, categories: Collection[str] | None = None,
                  region_prefix: str | None = None, statuses: Collection[str] = DEFAULT_STATUSES,
                  class_ratios: dict[str, float] | None = None,
                  exclude_entity_ids: Collection[int] | None = None, exclude_sampled_since: date | None = None,
                  risk_classes: RiskClassFunction | RiskClassTable | None = None,
                  chunk_size: int = CHUNK_SIZE) -> DrawResult:
    """Draw ``count`` entities at random from the registry, weighted by credit-risk class.

    Candidates: entities whose status is in ``statuses``, whose region lies under ``region_prefix``
    (a GB/T 2260 code prefix, ``2201`` = 长春市) and which make a product in one of ``categories``
    (a group code selects its whole group). Each candidate's weight is ``class_ratios`` of its
    class; a class with weight 0 is never drawn.

    ``risk_classes`` gives the classes (A–D); entities it leaves out are B. ``None`` means every
    entity is B — until the credit module exists. It will pass a ``RiskClassTable`` (see
    ``risk_class_table``), which PostgreSQL joins in SQL; a plain function mapping a list of entity
    ids to their classes also works, but then every candidate is streamed to Python. Either must be
    module-level, so that a re-run can find it again by its path.

    Entities sampled for the same product within six months must not be drawn again (issue 3,
    item 3). The caller computes that set and passes it as ``exclude_entity_ids``, with the start of
    the window as ``exclude_sampled_since`` (recorded only, so that the record says which window
    the exclusion stood for).

    Same arguments and seed → the same ordered list, on any database and whatever the row order.
    ``chunk_size`` is the number of rows per round trip when candidates are streamed.
    """
    if count < 1:
        raise DrawError(_("抽取数量必须至少为 1。"))
    if exclude_sampled_since is not None and exclude_entity_ids is None:
        raise DrawError(_("给出了排除期起始日，但没有给出应排除的市场主体。"))
    _seed_key(seed)
    ratios = _validate_ratios(class_ratios if class_ratios is not None else DEFAULT_CLASS_RATIOS)
    excluded = frozenset(exclude_entity_ids or ())
    categories = sorted(set(categories)) if categories else None
    statuses = sorted(set(statuses))
    parameters = {
        "count": count, "categories": categories, "region_prefix": region_prefix or None, "statuses": statuses,
        "class_ratios": ratios, "exclude_sampled_since": exclude_sampled_since.isoformat()
        if exclude_sampled_since else None, "exclude_entity_ids": sorted(excluded),
        "risk_classes": _function_path(risk_classes),
    }
    keys = _Keys(ratios)
    candidates = entity_candidates(categories=categories, region_prefix=region_prefix, statuses=statuses)
    table = risk_classes if isinstance(risk_classes, RiskClassTable) else None
    tally = None
    if connections[candidates.db].vendor == "postgresql" and (risk_classes is None or table is not None):
        # One transaction, so that a connection pooler keeps every statement on one server session
        # (the temporary aggregate lives in the session).
        with transaction.atomic(using=candidates.db):
            tally = _tally_in_postgresql(candidates, seed=seed, count=count, keys=keys, excluded=excluded,
                                         table=table)
    if tally is None:
        coarse = entity_candidates(region_prefix=region_prefix, statuses=statuses)
        tally = _tally_streamed(candidates, seed=seed, count=count, keys=keys, excluded=excluded,
                                table=table, function=None if table else risk_classes, chunk_size=chunk_size,
                                full_scan=_sqlite_prefers_full_scan(coarse))
    # The pool holds at most a few times ``count`` entries: sorting it beats a heap of ``count``.
    # (Same order as heapq.nlargest: by key, then USCC, largest first.)
    winners = sorted(tally.pool, reverse=True)[:count]
    names = tally.names if tally.names is not None else _entity_names([pk for _key, _uscc, pk, _cls in winners])
    items = [DrawnEntity(rank, pk, uscc, names.get(pk, ""), risk_class, key)
             for rank, (key, uscc, pk, risk_class) in enumerate(winners, start=1)]
    notes = []
    if tally.count == 0:
        notes.append(_("没有符合条件的候选市场主体。"))
    elif tally.count < count:
        notes.append(_("候选市场主体仅 %(n)d 家，少于抽取数量 %(count)d：全部候选均被抽中。")
                     % {"n": tally.count, "count": count})
    never = sorted(name for name, weight in ratios.items() if weight == 0 and tally.classes.get(name))
    if never:
        notes.append(_("抽取比例为 0 的信用风险类别不参与抽取：%(classes)s。") % {"classes": join_list(never)})
    return DrawResult(seed=seed, parameters=parameters, items=items, candidate_count=tally.count,
                      candidate_digest=digest_from_sums(tally.count, tally.sum1, tally.sum2),
                      candidate_classes=dict(sorted(tally.classes.items())), notes=notes)


def _candidate_sql(candidates: models.QuerySet, *fields: str) -> tuple[str, list]:
    sql, params = candidates.order_by().values_list("id", "uscc", *fields).query.sql_with_params()
    return sql, list(params)


def _duplicate_classes() -> DrawError:
    return DrawError(_("信用风险类别数据中同一市场主体有多条记录，无法确定其类别。"))


def _sqlite_prefers_full_scan(coarse: models.QuerySet) -> bool:
    """Whether SQLite should read the whole entity table in order rather than through the region index.

    SQLite plans the region range through an index even when the range holds most of the registry,
    and then fetches every row at random: five times slower than reading the table in order
    (measured on 200,000 entities). The status and region filter alone is counted on a covering
    index in milliseconds; above a twentieth of the registry, the table is read in order."""
    if connections[coarse.db].vendor != "sqlite":
        return False
    return coarse.count() * 20 >= MarketEntity.objects.count()


def _tally_streamed(candidates: models.QuerySet, *, seed: int, count: int, keys: _Keys, excluded: frozenset,
                    table: RiskClassTable | None, function: RiskClassFunction | None, chunk_size: int,
                    full_scan: bool = False) -> _Tally:
    """One pass over the candidates streamed as (id, USCC[, class, rows of the class]), hashed with
    numpy: counts, digest sums, and a pool holding the best ``count`` keys (O(count) memory)."""
    sql, params = _candidate_sql(candidates)
    if full_scan:
        # SQLite's NOT INDEXED on the entity table, the first FROM of the candidates' query (any
        # category filter comes after it, in an EXISTS on the product table).
        source = f"FROM {connections[candidates.db].ops.quote_name(MarketEntity._meta.db_table)}"
        sql = sql.replace(source, f"{source} NOT INDEXED", 1)
    if table is not None:
        # One row per candidate however many class rows it has; ``n`` > 1 is refused below.
        class_sql, class_params = table.queryset().query.sql_with_params()
        sql = (f"SELECT e.id, e.uscc, r.draw_class, r.n FROM ({sql}) e LEFT JOIN (SELECT s.draw_entity, "
               f"MIN(s.draw_class) AS draw_class, COUNT(*) AS n FROM ({class_sql}) s GROUP BY s.draw_entity) r "
               f"ON r.draw_entity = e.id")
        params = params + list(class_params)
    connection = connections[candidates.db]
    tally = _Tally()
    # Every fetched row is a new tuple the cyclic garbage collector would keep scanning the whole
    # heap for (up to a third of the time on a million candidates); none of them can form a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _stream(connection, sql, params, tally, seed=seed, count=count, keys=keys, excluded=excluded,
                       table=table, function=function, chunk_size=chunk_size)
    finally:
        if collecting:
            gc.enable()


def _stream(connection, sql: str, params: list, tally: _Tally, *, seed: int, count: int, keys: _Keys,
            excluded: frozenset, table: RiskClassTable | None, function: RiskClassFunction | None,
            chunk_size: int) -> _Tally:
    import numpy as np  # only streamed draws need it

    # Tops below ``floors[class]`` cannot reach the pool's weakest kept key; 0 until the pool fills.
    threshold = 0.0
    floors: dict[str, int] = {}
    with (connection.chunked_cursor() if connection.vendor == "postgresql" else connection.cursor()) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            if excluded:
                rows = [row for row in rows if row[0] not in excluded]
                if not rows:
                    continue
            columns = list(zip(*rows, strict=True))
            ids, usccs = columns[0], columns[1]
            if table is not None:
                if any(n is not None and n > 1 for n in columns[3]):
                    raise _duplicate_classes()
                classes = [DEFAULT_CLASS if name is None else str(name) for name in columns[2]]
            elif function is not None:
                found = function(ids)
                classes = [str(found.get(pk, DEFAULT_CLASS)) for pk in ids]
            else:
                classes = None
            hashes = lookup3_hash64_many(usccs, (seed, *DIGEST_SEEDS))
            tally.count += len(rows)
            # numpy's uint64 sums wrap modulo 2**64, which is what the digest takes.
            tally.sum1 += int(hashes[1].sum())
            tally.sum2 += int(hashes[2].sum())
            tops = hashes[0] >> np.uint64(64 - TOP_BITS)
            if classes is None:
                tally.classes[DEFAULT_CLASS] += len(rows)
                floor = floors.setdefault(DEFAULT_CLASS, keys.floor(keys.default, threshold))
                chosen = np.flatnonzero(tops >= np.uint64(floor))
            else:
                tally.classes.update(classes)
                for name in set(classes) - floors.keys():
                    floors[name] = keys.floor(keys.exponent(name), threshold)
                row_floors = np.fromiter((floors[name] for name in classes), dtype=np.uint64, count=len(classes))
                chosen = np.flatnonzero(tops >= row_floors)
            for index in chosen.tolist():
                risk_class = classes[index] if classes is not None else DEFAULT_CLASS
                key = _power(uniform_from_top(int(tops[index])), keys.exponent(risk_class))
                tally.pool.append((key, usccs[index], ids[index], risk_class))
            if len(tally.pool) > 2 * count:
                tally.pool = sorted(tally.pool, reverse=True)[:count]
                threshold = tally.pool[-1][0]
                floors = {}
    return tally


# The statement's first guess at the threshold aims at this many returned rows for ``count`` drawn:
# half as many again, so that a row estimate up to half too high still needs no second statement
# (the planner's estimates of the status and region filters are within a few per cent).
def _guess_target(count: int) -> float:
    return 1.5 * count + 10.0 * math.sqrt(count) + 100.0


def _exact_target(count: int) -> float:
    # With exact counts the number of rows above the threshold is a sum of binomials with a
    # standard deviation below sqrt(target): ten of them make a shortfall practically impossible.
    return count + 10.0 * math.sqrt(count) + 100.0


def _row_limit(count: int) -> int:
    # Rows above a guessed threshold that the statement may return: a guess from an estimate far
    # too low would otherwise bring back most candidates.
    return max(100_000, 20 * count)


def _threshold_for(expected: Callable[[float], float], total: float, target: float) -> float:
    """The key threshold t in [0, 1) at which ``expected(t)`` rows are above it: ``target`` rows;
    0 (everything) when there are not more than that. ``expected`` falls as t rises."""
    if total <= target:
        return 0.0
    low, high = 0.0, 1.0
    for _round in range(60):
        middle = (low + high) / 2
        if expected(middle) >= target:
            low = middle
        else:
            high = middle
    return low


def _expected_above(weights: list[tuple[int, float]], threshold: float) -> float:
    # A candidate of weight w has key u ** (1 / w) >= t with probability 1 − t ** w.
    return sum(n * (1.0 - threshold ** weight) for n, weight in weights)


def _estimated_rows(cursor, sql: str, params: list) -> float:
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # Django's psycopg loader leaves json as text
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def _pg_collector(connection) -> str | None:
    """The array aggregate that collects the returned candidates within one parallel scan:
    ``array_agg`` from PostgreSQL 16 (which can split it across workers); before, a temporary
    aggregate of the session built from the same functions, created here once per session; ``None``
    when it cannot be created (no TEMP privilege, a read-only transaction): two scans then."""
    if connection.pg_version >= 160000:
        return "array_agg"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [draw_sql.PG_COLLECT_SIGNATURE])
        if cursor.fetchone()[0]:
            return draw_sql.PG_COLLECT
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute(draw_sql.PG_CREATE_COLLECT)
        except DatabaseError:
            return None
    return draw_sql.PG_COLLECT


def _pg_attempt(cursor, collector: str | None, base_sql: str, base_params: list, exclude_sql: str,
                exclude_params: list, *, table: RiskClassTable | None, seed: int, floors: dict[str, int],
                limit: int | None) -> tuple[list, list, bool]:
    """Run one statement: (per-class rows (class, count, sum 1, sum 2, duplicates), returned
    candidates (id, USCC, class, draw hash, name), whether a row limit cut the candidates short)."""
    arguments = dict(table=table, seed=seed, floors=floors, default_floor=floors[DEFAULT_CLASS],
                     default_class=DEFAULT_CLASS)
    classes, returned = [], []
    if collector is not None:
        sql, params = draw_sql.pg_collect_statement(base_sql, base_params, exclude_sql, exclude_params,
                                                    collect=collector, **arguments)
        cursor.execute(sql, params)
        for risk_class, number, sum1, sum2, duplicates, collected in cursor.fetchall():
            classes.append((risk_class, number, sum1, sum2, duplicates))
            for item in collected or ():
                pk, uscc, hashed, name = item.split(draw_sql.FIELD_SEPARATOR, 3)
                returned.append((int(pk), uscc, risk_class, int(hashed), name))
        return classes, returned, False
    sql, params = draw_sql.pg_tally_statement(base_sql, base_params, exclude_sql, exclude_params, limit=limit,
                                              **arguments)
    cursor.execute(sql, params)
    for part, pk, uscc, risk_class, number, sum1, sum2, duplicates, name in cursor.fetchall():
        if part == 0:
            classes.append((risk_class, number, sum1, sum2, duplicates))
        else:
            returned.append((pk, uscc, risk_class, number, name))
    return classes, returned, limit is not None and len(returned) >= limit


def _tally_in_postgresql(candidates: models.QuerySet, *, seed: int, count: int, keys: _Keys,
                         excluded: frozenset, table: RiskClassTable | None) -> _Tally | None:
    """The tally computed by PostgreSQL, one statement per attempt (see the module docstring);
    ``None`` when the server's ``hashtextextended`` is not the published function."""
    connection = connections[candidates.db]
    base_sql, base_params = _candidate_sql(candidates, "name")
    exclude_sql, exclude_params = ("", [])
    if excluded:
        exclude_sql, exclude_params = " WHERE NOT (e.id = ANY(%s::bigint[]))", [sorted(excluded)]
    with connection.cursor() as cursor:
        cursor.execute(draw_sql.pg_probe_statement(seed))
        if cursor.fetchone()[0] & draw_sql.M64 != lookup3_hash64(draw_sql.PROBE, seed):
            return None
    collector = _pg_collector(connection)
    with connection.cursor() as cursor:
        estimate = _estimated_rows(cursor, f"SELECT 1 FROM ({base_sql}) e{exclude_sql}",
                                   base_params + exclude_params)
        # Without a class table every candidate is B. With one, until the classes are counted,
        # suppose every candidate in the least weighted class: that puts the fewest rows above a
        # threshold, so it is the safe guess.
        if table is None:
            smallest = 1.0 / keys.default if keys.default else 1.0
        else:
            smallest = min((1.0 / exponent for exponent in keys.positive().values()), default=1.0)
        threshold = _threshold_for(functools.partial(_expected_above, [(estimate, smallest)]), estimate,
                                   _guess_target(count))
        for attempt in range(3):
            if attempt == 2:
                threshold = 0.0  # the last attempt returns every candidate that can be drawn
            floors = {name: keys.floor(exponent, threshold) for name, exponent in keys.exponents.items()}
            limit = None if threshold == 0.0 else _row_limit(count)
            classes, returned, cut_short = _pg_attempt(
                cursor, collector, base_sql, base_params, exclude_sql, exclude_params, table=table, seed=seed,
                floors=floors, limit=limit)
            tally = _Tally(names={})
            for risk_class, number, sum1, sum2, duplicates in classes:
                if duplicates is not None and duplicates > 1:
                    raise _duplicate_classes()
                if number:
                    tally.count += number
                    tally.classes[str(risk_class)] += number
                    tally.sum1 += int(sum1)
                    tally.sum2 += int(sum2)
            pool, names, exponent_of = tally.pool, tally.names, keys.exponent
            for pk, uscc, risk_class, hashed, name in returned:
                # = _power(uniform_from_top(top_bits(hashed)), exponent), inlined: 20,000 rows here
                u = (((hashed & M64) >> (64 - TOP_BITS)) + 0.5) / TOP_SCALE
                exponent = exponent_of(risk_class)
                if exponent is None:  # weight 0: the statement's floors already leave these out
                    continue
                pool.append((u if exponent == 1.0 else u ** exponent, uscc, pk, risk_class))
                names[pk] = name
            drawable = sum(n for name, n in tally.classes.items() if keys.exponent(name) is not None)
            # Every returned candidate has a key of at least ``threshold`` and every other one a
            # smaller key: the best ``count`` are all here if ``count`` came back (and no limit cut
            # them short) or if every drawable candidate did.
            if not cut_short and (threshold == 0.0 or len(returned) >= min(count, drawable)):
                return tally
            # Too few above the guess, or too many for the limit: aim again with exact counts.
            weights = [(n, 1.0 / keys.exponent(name)) for name, n in tally.classes.items()
                       if keys.exponent(name) is not None]
            threshold = _threshold_for(functools.partial(_expected_above, weights), drawable,
                                       _exact_target(count))
    raise AssertionError("unreachable: the last attempt has no threshold")


def _entity_names(ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    # As few queries as the database's limit on parameters allows (none on PostgreSQL by default).
    for batch in batched(ids, connections[MarketEntity.objects.db].features.max_query_params or len(ids) or 1):
        names.update(MarketEntity.objects.filter(pk__in=batch).values_list("pk", "name"))
    return names


# --- inspectors ----------------------------------------------------------------------------------

REGION_LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6}


@dataclass(frozen=True)
class DrawnInspector:
    rank: int
    user_id: int
    username: str
    name: str
    region: str
    key: float

    def as_json(self) -> dict:
        return {"rank": self.rank, "user_id": self.user_id, "username": self.username, "name": self.name,
                "region": self.region, "key": self.key}


@dataclass
class InspectorDrawResult:
    """An inspector draw: the samplers in draw order and who was set aside and why."""

    seed: int
    parameters: dict
    items: list[DrawnInspector]
    candidate_count: int
    candidate_digest: str
    excluded: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)
    algorithm: str = ALGORITHM_VERSION

    @property
    def usernames(self) -> list[str]:
        return [item.username for item in self.items]

    def inputs_json(self) -> dict:
        return {**self.parameters, "seed": self.seed, "candidate_count": self.candidate_count,
                "candidate_digest": self.candidate_digest}

    def outputs_json(self) -> dict:
        return {"items": [item.as_json() for item in self.items], "excluded": self.excluded, "notes": self.notes}


def _same_region(user_region: str | None, entity_region: str, digits: int) -> bool:
    return bool(user_region) and user_region[:digits] == entity_region[:digits]


def draw_inspectors(*, seed: int, task_key: str, candidates: models.QuerySet, count: int = 2,
                    exclude_same_region_as: str | None = None, region_level: str = "county",
                    entity_ids: Collection[int] = (), declared_conflicts: Collection[tuple[int, int]] | None = None,
                    testers: Collection[int] = ()) -> InspectorDrawResult:
    """Draw ``count`` (at least two) samplers for one task from ``candidates`` (users).

    Set aside before the draw: users who are not active inspectors; users who test in this task
    (``testers``: samplers never test); users in the same region as the entity
    (``exclude_same_region_as`` = the entity's region code, compared on the first 2, 4 or 6
    digits for ``region_level`` province, city or county — the configurable conflict rule); users
    with a declared relation (``declared_conflicts``, pairs of user id and entity id) to one of the
    task's ``entity_ids`` — ``None`` reads them from the declared-conflict register.

    The inspectors' number u comes from the seed and ``task_key`` + username, so two tasks drawn
    with one seed do not get the same people. Raises ``DrawError`` when fewer than ``count``
    remain.
    """
    if count < 2:
        raise DrawError(_("每项任务至少需要两名抽样人员。"))
    if region_level not in REGION_LEVEL_DIGITS:
        raise DrawError(_("利益冲突的区划层级必须是省、市或县级。"))
    entity_ids = sorted(set(entity_ids))
    if declared_conflicts is None:
        from qualitygov.inspection.models import InspectorConflict

        declared_conflicts = InspectorConflict.objects.filter(entity_id__in=entity_ids).values_list("user_id",
                                                                                                  "entity_id")
    conflicted = {user_id for user_id, entity_id in declared_conflicts if entity_id in set(entity_ids)}
    testers = set(testers)
    digits = REGION_LEVEL_DIGITS[region_level]
    hasher = _hasher(seed)
    rows = (candidates.filter(role=Role.INSPECTOR, is_active=True)
            .values_list("pk", "username", "last_name", "first_name", "region_id"))
    excluded: dict[str, list[str]] = {"tester": [], "same_region": [], "declared_conflict": []}
    eligible = []
    usernames = []
    for pk, username, last_name, first_name, region in rows:
        usernames.append(username)
        if pk in testers:
            excluded["tester"].append(username)
        elif exclude_same_region_as and _same_region(region, exclude_same_region_as, digits):
            excluded["same_region"].append(username)
        elif pk in conflicted:
            excluded["declared_conflict"].append(username)
        else:
            h = hasher.copy()
            h.update(f"{task_key}\x1f{username}".encode())
            eligible.append((_u_from_digest(h.digest()), username, pk, f"{last_name}{first_name}", region or ""))
    if len(eligible) < count:
        raise DrawError(_("可抽取的检查人员不足 %(count)d 名：候选 %(total)d 名，其中承担检验的 %(testers)d 名、"
                          "与被抽查主体同一区划的 %(region)d 名、申报利益关系的 %(declared)d 名已回避，"
                          "仅余 %(left)d 名。") % {
            "count": count, "total": len(usernames), "testers": len(excluded["tester"]),
            "region": len(excluded["same_region"]), "declared": len(excluded["declared_conflict"]),
            "left": len(eligible)})
    eligible.sort(reverse=True)
    items = [DrawnInspector(rank, pk, username, name, region, u)
             for rank, (u, username, pk, name, region) in enumerate(eligible[:count], start=1)]
    parameters = {"task_key": task_key, "count": count, "exclude_same_region_as": exclude_same_region_as,
                  "region_level": region_level, "entity_ids": entity_ids,
                  "declared_conflicts": sorted([user_id, entity_id] for user_id, entity_id in declared_conflicts
                                               if entity_id in set(entity_ids)),
                  "testers": sorted(testers)}
    return InspectorDrawResult(seed=seed, parameters=parameters, items=items, candidate_count=len(usernames),
                               candidate_digest=candidate_digest(usernames),
                               excluded={k: sorted(v) for k, v in excluded.items()})


def inspector_pool(pool_region: str | None) -> models.QuerySet:
    """Active inspectors whose region lies under ``pool_region`` (a region code or prefix)."""
    queryset = User.objects.filter(role=Role.INSPECTOR, is_active=True)
    if pool_region:
        queryset = queryset.filter(region_q("region_id", region_prefix(pool_region) if len(pool_region) == 6
                                            else pool_region))
    return queryset


# --- stored draws --------------------------------------------------------------------------------

def new_seed() -> int:
    """A fresh seed from the operating system's CSPRNG, so nobody chooses the outcome in advance."""
    return secrets.randbits(63)


def _outputs_digest(outputs: dict) -> str:
    canonical = json.dumps(outputs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _store(kind: str, result, *, region, drawn_by, title: str):
    from qualitygov.inspection.models import RandomDraw

    outputs = result.outputs_json()
    return RandomDraw.objects.create(
        kind=kind, title=title, region=region, seed=result.seed, algorithm=result.algorithm,
        inputs=result.inputs_json(), outputs=outputs, candidate_count=result.candidate_count,
        candidate_digest=result.candidate_digest, outputs_digest=_outputs_digest(outputs), drawn_by=drawn_by)


def run_entity_draw(*, region, drawn_by: User | None, seed: int | None = None, title: str = "",
                    **parameters) -> tuple:
    """Draw entities (see ``draw_entities`` for ``parameters``) and store the record; returns
    ``(record, result)``. One transaction: no record without its draw, no draw without its record."""
    from qualitygov.inspection.models import RandomDraw

    seed = new_seed() if seed is None else seed
    with transaction.atomic():
        result = draw_entities(seed=seed, **parameters)
        return _store(RandomDraw.Kind.ENTITIES, result, region=region, drawn_by=drawn_by, title=title), result


def run_inspector_draw(*, region, drawn_by: User | None, task_key: str, pool_region: str | None = None,
                       seed: int | None = None, title: str = "", **parameters) -> tuple:
    """Draw samplers from the active inspectors under ``pool_region`` (default: the drawing unit's
    region) and store the record; returns ``(record, result)``."""
    from qualitygov.inspection.models import RandomDraw

    seed = new_seed() if seed is None else seed
    pool_region = pool_region or region.pk
    with transaction.atomic():
        result = draw_inspectors(seed=seed, task_key=task_key, candidates=inspector_pool(pool_region), **parameters)
        result.parameters["pool_region"] = pool_region
        return _store(RandomDraw.Kind.INSPECTORS, result, region=region, drawn_by=drawn_by, title=title), result


def run_draw(kind: str, **kwargs) -> tuple:
    """Draw and store: ``kind`` is ``"entities"`` or ``"inspectors"``; the rest as for
    ``run_entity_draw`` or ``run_inspector_draw``."""
    if kind == "entities":
        return run_entity_draw(**kwargs)
    if kind == "inspectors":
        return run_inspector_draw(**kwargs)
    raise DrawError(_("未知的抽取类型：%(kind)s。") % {"kind": kind})


def _redo(record):
    inputs = record.inputs
    if record.kind == "entities":
        since = inputs.get("exclude_sampled_since")
        path = inputs.get("risk_classes")
        return draw_entities(
            seed=record.seed, count=inputs["count"], categories=inputs["categories"],
            region_prefix=inputs["region_prefix"], statuses=inputs["statuses"], class_ratios=inputs["class_ratios"],
            exclude_entity_ids=inputs["exclude_entity_ids"] if since or inputs["exclude_entity_ids"] else None,
            exclude_sampled_since=date.fromisoformat(since) if since else None,
            risk_classes=import_string(path) if path else None)
    result = draw_inspectors(
        seed=record.seed, task_key=inputs["task_key"], candidates=inspector_pool(inputs["pool_region"]),
        count=inputs["count"], exclude_same_region_as=inputs["exclude_same_region_as"],
        region_level=inputs["region_level"], entity_ids=inputs["entity_ids"],
        declared_conflicts=[tuple(pair) for pair in inputs["declared_conflicts"]], testers=inputs["testers"])
    result.parameters["pool_region"] = inputs["pool_region"]
    return result


def _listing(values: list[str], limit: int = 20) -> str:
    shown = join_list(values[:limit])
    return shown if len(values) <= limit else _("%(shown)s 等") % {"shown": shown}


def rerun_draw(record) -> tuple[object, bool, list[str]]:
    """Run a stored draw again from its stored inputs and compare: ``(result, identical, differences)``.

    ``differences`` says in Chinese what changed: the algorithm, the number or set of candidates
    (so a different list is explained by a changed registry, not a different chance), and the drawn
    list position by position. An inspector draw whose candidates fall short reports that too.
    """
    differences: list[str] = []
    if record.algorithm not in COMPATIBLE_VERSIONS.get(record.kind, {ALGORITHM_VERSION}):
        differences.append(_("抽取算法版本不同：记录为 %(old)s，当前为 %(new)s。")
                           % {"old": record.algorithm, "new": ALGORITHM_VERSION})
    try:
        result = _redo(record)
    except DrawError as exc:
        return None, False, [*differences, str(exc)]
    old_inputs = record.inputs
    if result.candidate_count != old_inputs["candidate_count"]:
        differences.append(_("候选数量由 %(old)d 变为 %(new)d。")
                           % {"old": old_inputs["candidate_count"], "new": result.candidate_count})
    if result.candidate_digest != old_inputs["candidate_digest"]:
        differences.append(_("候选集合已变化（摘要由 %(old)s… 变为 %(new)s…）。")
                           % {"old": old_inputs["candidate_digest"][:12], "new": result.candidate_digest[:12]})
    identifier = "uscc" if record.kind == "entities" else "username"
    old = [item[identifier] for item in record.outputs["items"]]
    new = [item.uscc if identifier == "uscc" else item.username for item in result.items]
    if old != new:
        old_set, new_set = set(old), set(new)
        added = [value for value in new if value not in old_set]
        removed = [value for value in old if value not in new_set]
        if added:
            differences.append(_("新抽中 %(n)d 个：%(list)s。") % {"n": len(added), "list": _listing(added)})
        if removed:
            differences.append(_("不再抽中 %(n)d 个：%(list)s。") % {"n": len(removed), "list": _listing(removed)})
        if not added and not removed:
            differences.append(_("抽中名单相同，但顺序不同。"))
    elif record.kind == "entities":
        old_classes = [item["risk_class"] for item in record.outputs["items"]]
        if old_classes != [item.risk_class for item in result.items]:
            differences.append(_("抽中名单相同，但信用风险类别有变化。"))
    if _outputs_digest(record.outputs) != record.outputs_digest:
        differences.append(_("记录中的抽取结果与其摘要不符（记录可能被改动）。"))
    return result, not differences, differences
