"""The random draw (双随机): which entities are spot-checked and which inspectors sample them.

Both draws are reproducible from their inputs alone. Every candidate gets a pseudo-random number
``u`` in (0, 1) from a keyed hash of the seed and the candidate's stable identifier (the entity's
USCC, the inspector's username) — BLAKE2b (RFC 7693) with the seed as key — so the result depends
neither on the order in which the database returns rows nor on which database it is (SQLite,
PostgreSQL): the same seed and the same candidates give the same ordered list, and anyone holding
the published record can recompute every number.

Entities are drawn without replacement with probability weighted by their credit-risk class, by
the Efraimidis–Spirakis method: each candidate's key is ``u ** (1 / w)`` and the ``count``
candidates with the largest keys are drawn (P. S. Efraimidis and P. G. Spirakis, "Weighted random
sampling with a reservoir", Information Processing Letters 97(5), 2006, pp. 181–185, algorithm
A-Res). That needs one pass over the candidates and a heap of ``count`` keys: O(N log k) time and
O(k) memory, so a province's three million entities are streamed as (id, USCC) pairs, never
loaded as objects.

The drawn list is in key order (largest first): if a drawn entity cannot be sampled (closed,
moved), the next entity of a longer draw with the same seed is its reproducible substitute.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import secrets
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from itertools import batched
from operator import or_

from django.db import connections, models, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Collate
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from qualitygov.core.models import User, region_prefix, region_q
from qualitygov.core.roles import Role
from qualitygov.registry.models import MarketEntity, Product

__all__ = [
    "ALGORITHM_VERSION", "DEFAULT_CLASS_RATIOS", "DrawError", "DrawResult", "DrawnEntity", "DrawnInspector",
    "InspectorDrawResult", "candidate_digest", "draw_entities", "draw_inspectors", "entity_candidates",
    "inspector_pool", "new_seed", "rerun_draw", "run_draw", "run_entity_draw", "run_inspector_draw", "uniform_key",
]

# Stored with every draw record; change it whenever the numbers a seed produces would change.
ALGORITHM_VERSION = "es-a-res/blake2b-64/v1"

# Weights per credit-risk class (issue 3, item 3): A lowered, B normal, C raised, D sharply raised.
DEFAULT_CLASS_RATIOS: dict[str, float] = {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}
DEFAULT_CLASS = "B"
DEFAULT_STATUSES = (MarketEntity.Status.OPERATING.value,)
# Rows fetched per round trip; PostgreSQL streams them through a server-side cursor.
CHUNK_SIZE = 20_000
# SQLite limits the number of bound parameters per statement; fetch winners' names in batches.
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
    # The top 53 bits of the 64-bit hash, centred in their cell: exactly representable as a
    # double and strictly inside (0, 1), so u ** (1 / w) is always defined and positive.
    return ((int.from_bytes(digest, "big") >> 11) + 0.5) / 9007199254740992.0  # 2 ** 53


def uniform_key(seed: int, identifier: str) -> float:
    """The candidate's number u in (0, 1): BLAKE2b-64 keyed with the seed's decimal digits, over the
    identifier's ASCII bytes, top 53 bits. Published so that anyone can check a draw by hand."""
    hasher = _hasher(seed)
    hasher.update(identifier.encode("utf-8"))
    return _u_from_digest(hasher.digest())


def candidate_digest(identifiers: Iterable[str]) -> str:
    """SHA-256 over the identifiers in ascending order, one per line (``\\n`` after each)."""
    digest = hashlib.sha256()
    for identifier in sorted(identifiers):
        digest.update(identifier.encode("utf-8") + b"\n")
    return digest.hexdigest()


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


def draw_entities(*, seed: int, count: int, categories: Collection[str] | None = None,
                  region_prefix: str | None = None, statuses: Collection[str] = DEFAULT_STATUSES,
                  class_ratios: dict[str, float] | None = None,
                  exclude_entity_ids: Collection[int] | None = None, exclude_sampled_since: date | None = None,
                  risk_classes: RiskClassFunction | None = None, chunk_size: int = CHUNK_SIZE) -> DrawResult:
    """Draw ``count`` entities at random from the registry, weighted by credit-risk class.

    Candidates: entities whose status is in ``statuses``, whose region lies under ``region_prefix``
    (a GB/T 2260 code prefix, ``2201`` = 长春市) and which make a product in one of ``categories``
    (a group code selects its whole group). Each candidate's weight is ``class_ratios`` of its
    class; a class with weight 0 is never drawn.

    ``risk_classes`` maps a list of entity ids to their classes (A–D); ids it leaves out are B.
    ``None`` means every entity is B — until the credit module exists; it will pass its own
    function here (a module-level function, so that a re-run can find it again by its path).

    Entities sampled for the same product within six months must not be drawn again (issue 3,
    item 3). The sampling records are not built yet, so the caller computes that set and passes it
    as ``exclude_entity_ids``, with the start of the window as ``exclude_sampled_since`` (recorded
    only, so that the record says which window the exclusion stood for).

    Same arguments and seed → the same ordered list, on any database and whatever the row order.
    """
    if count < 1:
        raise DrawError(_("抽取数量必须至少为 1。"))
    if exclude_sampled_since is not None and exclude_entity_ids is None:
        raise DrawError(_("给出了排除期起始日，但没有给出应排除的市场主体。"))
    ratios = _validate_ratios(class_ratios if class_ratios is not None else DEFAULT_CLASS_RATIOS)
    excluded = frozenset(exclude_entity_ids or ())
    hasher = _hasher(seed)
    categories = sorted(set(categories)) if categories else None
    statuses = sorted(set(statuses))
    parameters = {
        "count": count, "categories": categories, "region_prefix": region_prefix or None, "statuses": statuses,
        "class_ratios": ratios, "exclude_sampled_since": exclude_sampled_since.isoformat()
        if exclude_sampled_since else None, "exclude_entity_ids": sorted(excluded),
        "risk_classes": _function_path(risk_classes),
    }
    # Efraimidis–Spirakis keys u ** (1 / w); 1 / w once per class, not per row.
    inverse = {name: (1.0 / weight if weight > 0 else None) for name, weight in ratios.items()}
    default_inverse = inverse[DEFAULT_CLASS]
    # Min-heap of the best ``count`` (key, uscc, id, class) so far. Ties in key (vanishingly rare)
    # are broken by the USCC, so the order stays a total order independent of row order.
    heap: list[tuple[float, str, int, str]] = []
    class_counts: Counter[str] = Counter()
    # The weakest (key, uscc) kept once the heap is full; until then every candidate goes in.
    floor_key, floor_uscc = -1.0, ""
    copy, from_bytes = hasher.copy, int.from_bytes
    candidate_count = 0
    sha = hashlib.sha256()
    previous = ""
    candidates = entity_candidates(categories=categories, region_prefix=region_prefix, statuses=statuses)
    # Byte order of the USCCs, for the digest. On PostgreSQL, COLLATE "C" makes it byte order under any
    # database collation, and it also keeps the planner from walking the USCC index in order (a
    # random heap access per row: 10 s instead of 2 s for three million candidates in the benchmark).
    order = Collate(F("uscc"), "C") if connections[candidates.db].vendor == "postgresql" else F("uscc")
    ordered_rows = candidates.order_by(order).values_list("id", "uscc").iterator(chunk_size=chunk_size)
    for chunk in batched(ordered_rows, chunk_size):
        if excluded:
            chunk = [row for row in chunk if row[0] not in excluded]
        if not chunk:
            continue
        # The rows arrive in USCC order (the database sorts them), so the candidate digest is one
        # streaming SHA-256 over the sorted USCCs. Checking the order costs one comparison per chunk
        # (rows within a chunk come from one sorted result).
        if chunk[0][1] <= previous:
            raise DrawError(_("数据库未按统一社会信用代码顺序返回候选主体，无法计算候选集合摘要。"))
        previous = chunk[-1][1]
        usccs = [uscc for _pk, uscc in chunk]
        sha.update("\n".join(usccs).encode("ascii") + b"\n")
        candidate_count += len(chunk)
        if risk_classes is None:
            classes = None
            class_counts[DEFAULT_CLASS] += len(chunk)
        else:
            found = risk_classes([pk for pk, _uscc in chunk])
            classes = {pk: found.get(pk, DEFAULT_CLASS) for pk, _uscc in chunk}
            class_counts.update(classes.values())
        # The hot loop: one keyed hash per candidate, one comparison against the weakest key kept.
        for pk, uscc in chunk:
            if classes is None:
                risk_class, exponent = DEFAULT_CLASS, default_inverse
            else:
                risk_class = classes[pk]
                exponent = inverse.get(risk_class, default_inverse)
            if exponent is None:
                continue  # weight 0: never drawn
            h = copy()
            h.update(uscc.encode("ascii"))
            key = ((from_bytes(h.digest(), "big") >> 11) + 0.5) / 9007199254740992.0  # = _u_from_digest
            if exponent != 1.0:
                key **= exponent
            if key < floor_key:
                continue
            entry = (key, uscc, pk, risk_class)
            if len(heap) < count:
                heapq.heappush(heap, entry)
                if len(heap) == count:
                    floor_key, floor_uscc = heap[0][0], heap[0][1]
            elif key > floor_key or uscc > floor_uscc:
                heapq.heapreplace(heap, entry)
                floor_key, floor_uscc = heap[0][0], heap[0][1]
    winners = sorted(heap, reverse=True)
    names = _entity_names([pk for _key, _uscc, pk, _cls in winners])
    items = [DrawnEntity(rank, pk, uscc, names.get(pk, ""), risk_class, key)
             for rank, (key, uscc, pk, risk_class) in enumerate(winners, start=1)]
    notes = []
    if candidate_count == 0:
        notes.append(_("没有符合条件的候选市场主体。"))
    elif candidate_count < count:
        notes.append(_("候选市场主体仅 %(n)d 家，少于抽取数量 %(count)d：全部候选均被抽中。")
                     % {"n": candidate_count, "count": count})
    never = sorted(name for name, weight in ratios.items() if weight == 0 and class_counts.get(name))
    if never:
        notes.append(_("抽取比例为 0 的信用风险类别不参与抽取：%(classes)s。") % {"classes": "、".join(never)})
    return DrawResult(seed=seed, parameters=parameters, items=items, candidate_count=candidate_count,
                      candidate_digest=sha.hexdigest(), candidate_classes=dict(sorted(class_counts.items())),
                      notes=notes)


def _entity_names(ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for batch in batched(ids, IN_BATCH):
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
    shown = "、".join(values[:limit])
    return shown if len(values) <= limit else _("%(shown)s 等") % {"shown": shown}


def rerun_draw(record) -> tuple[object, bool, list[str]]:
    """Run a stored draw again from its stored inputs and compare: ``(result, identical, differences)``.

    ``differences`` says in Chinese what changed: the algorithm, the number or set of candidates
    (so a different list is explained by a changed registry, not a different chance), and the drawn
    list position by position. An inspector draw whose candidates fall short reports that too.
    """
    differences: list[str] = []
    if record.algorithm != ALGORITHM_VERSION:
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
