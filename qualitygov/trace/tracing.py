"""Forward and backward traces over the EPCIS event store (issue 5, item 5).

The graph. Nodes are canonical identifiers (``trace.identifiers``): instances (SGTIN, SSCC, …),
classes (GTIN + batch, the ``class_key``) and the places and parties events name (GLN / party GLN from
sourceList, destinationList and bizLocation, tied to a registry entity through ``Location``). Edges always
point downstream (from where goods were to where they went) and come from events:

* TransformationEvent: each input → each output;
* AggregationEvent ADD/OBSERVE: child → parent (the child travels in the container); DELETE: parent →
  child (it leaves the container);
* ObjectEvent / TransactionEvent: item → destination (``shipped_to``; the ``location`` entries of the
  destinationList when there are any, else the parties); a receiving/accepting event: item → its
  bizLocation (``received_at``); source → item (``shipped_from``) and, for a commissioning (action
  ADD), bizLocation → item (``produced_at``);
* batch membership: class → instance (``batch``), from the rows that carry the instance's class_key
  (the commissioning row carries the lot; later events may name the serial only).

A forward trace walks edges downstream from the start; a backward trace walks them upstream. Places
and parties are end points: the walk goes on from the goods, not from a warehouse (which holds many
other goods). Events are followed in time order: downstream only events at or after the time a node
was reached, upstream only events at or before it. A batch (GTIN + batch) trace follows its serialised
items too; a serial's forward trace follows that item only (and the containers it travels in), its
backward trace also its batch (the batch's origin is the item's origin).

SQL strategy: breadth-first and set-based, three queries per step whatever the size of the frontier
(issue 5, item 9: the trace is measured beside a recursive SQL query in ``bench/bench_trace.py``):

1. the ids of the events naming any frontier identifier or class, and their time range (``EventIdentifier``
   indexes (identifier, role) and (class_key, role); the frontier is one array parameter: ``= ANY(%s)``
   on PostgreSQL, ``json_each(%s)`` on SQLite; the ids come back as one array, not a row each);
2. of those not read before, the events with a ``visible`` flag — the scope of
   ``EpcisEvent.objects.restrict(user)`` compiled into the query, and no error declaration — by
   ``id = ANY(array)`` within their time range (the event table is partitioned by event time on
   PostgreSQL: the range prunes partitions when the query is planned); times come back as UTC text,
   parsed once per distinct value;
3. every identifier row of the visible ones but those of the place role the direction never reads.

Events already read are kept and not read again; ``_Walk.apply`` applies the rules above to each
touched event in id order. The walk stops at ``max_depth`` steps or ``max_nodes`` nodes, saying so in
``summary["truncated"]``. The result is assembled from tuples (no model instances, one Location query
run on a cursor), each distinct time, quantity, step and place converted once (a whole quantity becomes
an int, so edges add up ints; a fractional one stays an exact Decimal), the node and edge dicts built in
one comprehension each, and the holders table from the same sorted edge tuples as the edges. Python's
cyclic garbage collector is paused while a trace runs (``_collector_paused``): the result is some
200,000 acyclic tuples, lists and dicts, and the collections their allocation set off took about half
the CPU time of a 10,000-node trace.

Why not one recursive CTE: a node is followed from the time it was *first* reached (breadth-first, then
event order; a batch's serialised item reached in a step sets the time from which later events of that
step are followed), which a recursive term — it sees only the previous iteration's rows — cannot know,
so a CTE would give other answers on some stores. Computing the plain ObjectEvents' edges in SQL per
step (a variant tried on 2026-12-01, see the benchmark's docstring) was slower than reading the rows:
the Python work it saves is small beside building the result.

Scope. Only events the user may see are followed (a county officer: events at its county's locations;
an enterprise user: its entity's events). A place that a visible event names but that lies outside the
user's scope is shown by its GLN without entity name or region (``in_scope`` false); the chain beyond it is
not followed, and ``summary["scope_limited"]`` says that some events naming traced goods were left out.
``user=None`` (command line, jobs) sees everything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import json
import operator
import re
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualitygov.core.roles import Role
from qualitygov.trace import identifiers
from qualitygov.trace.models import EpcisEvent, EventIdentifier, Location

DEFAULT_MAX_DEPTH = 20
DEFAULT_MAX_NODES = 20000
LIMIT_MAX_DEPTH = 100
LIMIT_MAX_NODES = 200000
FORWARD, BACKWARD = "forward", "backward"
DIRECTIONS = (FORWARD, BACKWARD)

# Officers and enterprises trace; lab staff (no access to events) and data consumers do not.
TRACE_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER,
                         Role.INSPECTOR, Role.ENTERPRISE})

R = EventIdentifier.Role
INPUT_ROLES = frozenset({R.INPUT, R.INPUT_QUANTITY})
OUTPUT_ROLES = frozenset({R.OUTPUT, R.OUTPUT_QUANTITY})
CHILD_ROLES = frozenset({R.CHILD, R.CHILD_QUANTITY})
ITEM_ROLES = frozenset({R.EPC, R.QUANTITY})
PLACE_ROLES = frozenset({R.SOURCE, R.DESTINATION})
RECEIVING_STEPS = frozenset({"receiving", "accepting", "arriving"})

# Relations of edges, for labels.
RELATIONS = {
    "transformed": gettext_lazy("加工转化"), "packed": gettext_lazy("装入"), "unpacked": gettext_lazy("拆出"), "shipped_to": gettext_lazy("发往"),
    "received_at": gettext_lazy("收货"), "shipped_from": gettext_lazy("发出方"),
    "received_from": gettext_lazy("收货来源"), "produced_at": gettext_lazy("生产地"), "batch": gettext_lazy("批次单品"),
}
KIND_LABELS = {"instance": gettext_lazy("单品"), "class": gettext_lazy("批次"), "container": gettext_lazy("物流单元"), "location": gettext_lazy("位置"),
               "party": gettext_lazy("参与方"), "other": gettext_lazy("其他标识")}


class TraceError(ValueError):
    """A trace that cannot be run; ``code`` is stable, ``message`` Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def can_trace(user) -> bool:
    """Whether ``user`` may use the trace pages and API (officers, inspectors and enterprise users)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.role in TRACE_ROLES


def node_kind(identifier: str) -> str:
    """instance, class, container, location, party or other, from a canonical Digital Link's path."""
    prefix = "https://id.gs1.org/"
    if not identifier.startswith(prefix):
        return "other"
    path = identifier[len(prefix):]
    if path.startswith("01/"):
        return "instance" if "/21/" in path else "class"
    if path.startswith("00/"):
        return "container"
    if path.startswith("414/"):
        return "location"
    if path.startswith("417/"):
        return "party"
    return "instance"


def _gln(identifier: str) -> str:
    """The 13-digit GLN of a canonical location/party identifier, else ''."""
    parts = identifier.split("/")
    if len(parts) >= 5 and parts[3] in ("414", "417"):
        return parts[4]
    return ""


def _label(identifier: str, words: dict[str, str]) -> str:
    """A short readable label; ``words`` are the translated words, looked up once per trace (gettext
    per node is the slowest part of a large trace)."""
    parts = identifier.removeprefix("https://id.gs1.org/").split("/")
    pairs = dict(zip(parts[::2], parts[1::2], strict=False))
    if "01" in pairs:
        text = f"GTIN {pairs['01']}"
        if "10" in pairs:
            text += f" {words['batch']} {pairs['10']}"
        if "21" in pairs:
            text += f" {words['serial']} {pairs['21']}"
        return text
    if "00" in pairs:
        return f"SSCC {pairs['00']}"
    if "414" in pairs or "417" in pairs:
        return f"GLN {pairs.get('414') or pairs.get('417')}"
    return identifier


def _number(value: int | Decimal | None):
    """A quantity for JSON: an int when whole, else a float."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def _step_word(value: str) -> str:
    """The bare CBV word of a bizStep (capture stores bare words; older forms are tolerated)."""
    for sep in (":", "-", "/"):
        value = value.rsplit(sep, 1)[-1]
    return value


def parse_start(text: str) -> identifiers.GS1Key:
    """Parse what the user typed into the key to trace from; ``TraceError`` when it cannot be traced."""
    try:
        key = identifiers.parse_lookup_code(text)
    except identifiers.IdentifierError as error:
        raise TraceError(error.code, error.message) from error
    if key.kind == identifiers.Kind.GTIN:
        raise TraceError("batch_required", _("仅凭商品条码无法追溯：请同时输入批号（如“商品条码 空格 批号”）或单品序列号。"))
    if key.kind in (identifiers.Kind.GLN, identifiers.Kind.SGLN, identifiers.Kind.PGLN):
        raise TraceError("location_not_traceable",
                         _("位置码或参与方码不能作为追溯起点：请输入商品批次、单品或物流单元的标识。"))
    return key


# --- the store, set-based ---------------------------------------------------------------------------

_CANONICAL_GLN = re.compile(r"https://id\.gs1\.org/414/[0-9]{13}")


def _pg_array(values) -> str:
    """A PostgreSQL array literal of ``values`` (one text parameter: much cheaper to send than a list the
    driver adapts element by element, which costs more than the query for a large trace)."""
    if values and isinstance(values[0], int):
        return "{" + ",".join(map(str, values)) + "}"
    if None not in values:
        bare = "".join(values)
        if '"' not in bare and "\\" not in bare:
            # Nothing to escape (canonical identifiers never need it): joins, no pass per value.
            return '{"' + '","'.join(values) + '"}' if values else "{}"
    return "{" + ",".join("NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


def _in_param(values, sql_type: str = "varchar") -> tuple[str, object]:
    """SQL membership in one parameter: an array on PostgreSQL, a JSON list read by json_each on SQLite."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"= ANY(%s::{sql_type}[])", _pg_array(values)
    return "IN (SELECT value FROM json_each(%s))", json.dumps(values)


def _members(values, sql_type: str) -> RawSQL:
    """A subquery yielding ``values`` from one parameter, for ``field__in`` (no parameter per value)."""
    member, param = _in_param(values, sql_type)
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [param])
    return RawSQL("SELECT value FROM json_each(%s)", [param])


def _scope_condition(user) -> tuple[str, list]:
    """The WHERE condition of ``EpcisEvent.objects.restrict(user)`` as SQL on the unaliased event table,
    so that the scope rules stay those of the model (``EpcisEvent.apply_scope``) inside raw SQL."""
    if user is None:
        return "1 = 1", []
    query = EpcisEvent.objects.restrict(user).query
    try:
        sql, params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return "1 = 0", []
    except FullResultSet:
        return "1 = 1", []
    return (f"({sql})" if sql else "1 = 1"), list(params)


def _touched_events(frontier: set[str]) -> tuple[list[int], dt.datetime | None, dt.datetime | None]:
    """The ids of the events naming any identifier (or class) of ``frontier``, and their time range: one
    query, each half on its own index ((identifier, role), (class_key, role)). The ids come back as one
    array (tens of thousands of rows would cost more to read than to find)."""
    table = EventIdentifier._meta.db_table
    member, param = _in_param(sorted(frontier))
    touched = (f"SELECT event_id, event_time FROM {table} WHERE identifier {member} "
               f"UNION SELECT event_id, event_time FROM {table} WHERE class_key {member}")
    if connection.vendor == "postgresql":
        sql = f"SELECT array_agg(event_id)::text, min(event_time), max(event_time) FROM ({touched}) t"
    else:
        sql = f"SELECT json_group_array(event_id), min(event_time), max(event_time) FROM ({touched}) t"
    with connection.cursor() as cursor:
        cursor.execute(sql, [param, param])
        ids, lo, hi = cursor.fetchone()
    if not ids or ids in ("[]", "{}"):
        return [], None, None
    return list(map(int, ids[1:-1].split(","))), lo, hi


def _read_events(ids: list[int], lo, hi, scope: tuple[str, list]) -> list[tuple]:
    """(pk, eventID, type, action, bizStep, time, bizLocation, visible) of the events ``ids``: one query.
    ``visible`` is false for an event the user may not see (the scope of ``EpcisEvent.objects.restrict``)
    and for one declared erroneous (EPCIS 2.0 errorDeclaration, see ``trace.capture``: a declaration is
    a row with the event's ID and time; the event is not evidence of where goods went and is left out).

    On PostgreSQL the event table is partitioned by event time: ``id = ANY(array)`` within the events'
    time range prunes partitions when the query is planned and each remaining one answers with index
    scans."""
    events = EpcisEvent._meta.db_table
    member, param = _in_param(ids, "bigint")
    scope_sql, scope_params = scope
    params = [*scope_params, param]
    declared_range = time_range = ""
    when = f'"{events}"."event_time"'
    if connection.vendor == "postgresql":
        # UTC text in a fixed form (whatever the session's DateStyle): parsed once per distinct time in
        # Python, much faster than the driver's per-row timestamp loader.
        when = f"""to_char({when} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
        # The constant range prunes partitions when the query is planned, here and in the declarations.
        declared_range = " AND d.event_time >= %s AND d.event_time <= %s"
        time_range = f' AND "{events}"."event_time" >= %s AND "{events}"."event_time" <= %s'
        params = [*scope_params, lo, hi, param, lo, hi]
    # The declarations are read once (an uncorrelated subquery, hashed; the partial index
    # trace_declared_idx holds only them), not looked up again for every event read: in a partition of
    # millions of events that per-event lookup cost more than the rest of the query.
    sql = (f'SELECT "{events}"."id", "{events}"."event_id", "{events}"."event_type", "{events}"."action", '
           f'"{events}"."biz_step", {when}, "{events}"."biz_location", '
           f'CASE WHEN {scope_sql} AND ("{events}"."event_id", "{events}"."event_time") NOT IN '
           f"(SELECT d.event_id, d.event_time FROM {events} d WHERE d.has_error_declaration{declared_range}) "
           f"THEN 1 ELSE 0 END "
           f'FROM {events} WHERE "{events}"."id" {member}{time_range}')
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _identifier_rows(event_ids: list[int], skip_role: str, quantities: dict) -> dict[int, list[tuple]]:
    """Every identifier row of ``event_ids`` but those of ``skip_role`` (the place role a walk in this
    direction never reads), one query: event id → rows (role, identifier, class_key, stored quantity,
    uom, kind, event id), the driver's own tuples. The stored quantity (text on PostgreSQL: the driver
    would make a Decimal per row) is read through ``quantities``, which gets each new distinct value
    converted once (``_quantity``)."""
    table = EventIdentifier._meta.db_table
    member, param = _in_param(event_ids, "bigint")
    out: dict[int, list[tuple]] = defaultdict(list)
    quantity = "quantity::text" if connection.vendor == "postgresql" else "quantity"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT role, identifier, class_key, {quantity}, uom, kind, event_id FROM {table} "
                       f"WHERE event_id {member} AND role <> %s", [param, skip_role])
        found = cursor.fetchall()
    for value in {row[3] for row in found} - quantities.keys():
        quantities[value] = _quantity(value)
    for row in found:
        out[row[6]].append(row)
    return out


def _quantity(value) -> int | Decimal | None:
    """A stored quantity (PostgreSQL text, SQLite number) as an int when it is whole — the common case:
    edges add up ints, much cheaper than Decimals — else as an exact Decimal."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    whole = number.to_integral_value()
    return int(whole) if number == whole else number


# --- the walk --------------------------------------------------------------------------------------

# Event tuple fields (a tuple per event read: the walk touches tens of thousands of them).
E_PK, E_ID, E_TYPE, E_ACTION, E_STEP, E_TIME, E_PLACE, E_WORD, E_ISO = range(9)
PLACE_PREFIXES = ("https://id.gs1.org/414/", "https://id.gs1.org/417/")
ITEM_OR_PARENT_ROLES = ITEM_ROLES | {R.PARENT}


class _Walk:
    def __init__(self, direction: str, user):
        self.direction = direction
        self.forward = direction == FORWARD
        self.user = user
        self.scope = _scope_condition(user)
        self.nodes: dict[str, int] = {}  # identifier → depth
        self.reached: dict[str, dt.datetime | None] = {}
        self.edges: dict[tuple, list] = {}  # (event pk, from, to, relation) → [quantity, uom]
        self.events: dict[int, tuple] = {}
        self.rows: dict[int, list[tuple]] = {}
        self.hidden: set[int] = set()
        self.times: dict = {}
        self.words: dict[str, str] = {}
        self.place_ids: dict[str, str] = {}
        self.quantities: dict = {None: None}  # stored quantity → int or Decimal (see _identifier_rows)

    def add_node(self, identifier: str, depth: int, when: dt.datetime | None, new: set[str]) -> None:
        if identifier in self.nodes:
            return
        self.nodes[identifier] = depth
        if not identifier.startswith(PLACE_PREFIXES):
            # Places and parties are end points (see the module docstring).
            self.reached[identifier] = when
            new.add(identifier)

    def add_edge(self, source: str, target: str, event: tuple, relation: str, stored, uom: str,
                 counted: bool) -> None:
        """Add ``event``'s edge, or add its quantity (a row's stored quantity, or None) to it."""
        quantity = self.quantities[stored]
        key = (event[E_PK], source, target, relation)
        edge = self.edges.get(key)
        if edge is None:
            edge = self.edges[key] = [None, uom]
        if quantity is not None:
            edge[0] = (edge[0] or 0) + quantity
        elif counted:
            edge[0] = (edge[0] or 0) + 1

    def in_time(self, node: str, when: dt.datetime) -> bool:
        reached = self.reached.get(node)
        if reached is None:
            return True
        return when >= reached if self.forward else when <= reached

    def read(self, frontier: set[str]) -> list[int]:
        """Read the events naming the frontier (three queries; events read before are not read again):
        the ids of those touched, in order."""
        touched, lo, hi = _touched_events(frontier)
        events, hidden = self.events, self.hidden
        unread = [pk for pk in touched if pk not in events and pk not in hidden]
        if unread:
            read = [row for row in _read_events(unread, lo, hi, self.scope) if row[7]]  # the visible ones
            # Times, steps and places repeat across events: each distinct value is converted once.
            times, words, places = self.times, self.words, self.place_ids
            for when in {row[5] for row in read} - times.keys():
                moment = _event_time(when)
                times[when] = (moment, moment.isoformat())
            for step in {row[4] for row in read} - words.keys():
                words[step] = _step_word(step)
            for location in {row[6] for row in read} - places.keys():
                places[location] = _place(location)
            events.update({pk: (pk, event_id, kind, action, step, times[when][0], places[location], words[step],
                                times[when][1])
                           for pk, event_id, kind, action, step, when, location, _visible in read})
            seen = [row[0] for row in read]
            hidden.update(pk for pk in unread if pk not in events)
            if seen:
                self.rows.update(_identifier_rows(seen, R.SOURCE if self.forward else R.DESTINATION,
                                                  self.quantities))
        return touched

    def step(self, frontier: set[str], depth: int) -> set[str]:
        """One breadth-first step: the nodes reached from ``frontier``, events in id order."""
        new: set[str] = set()
        events, rows = self.events, self.rows
        for pk in sorted(self.read(frontier)):
            if pk in events:
                self.apply(events[pk], rows.get(pk, ()), frontier, depth, new)
        return new

    def apply(self, event: tuple, rows, frontier: set[str], depth: int, new: set[str]) -> None:
        """The edges ``event`` adds from the frontier nodes it names, in the walk's direction."""
        when = event[E_TIME]
        forward = self.forward
        matched = []  # (frontier node, row)
        for row in rows:
            if row[0] in PLACE_ROLES:
                continue
            identifier = row[1]
            if identifier in frontier:
                matched.append((identifier, row))
                continue
            class_key = row[2]
            if class_key and class_key in frontier and self.in_time(class_key, when):
                if forward and identifier != class_key:
                    # A batch's serialised item: follow the item itself (its later events may not name the lot).
                    self.add_node(identifier, depth, when, new)
                    self.add_edge(class_key, identifier, event, "batch", None, "", False)
                    matched.append((identifier, row))
                else:
                    matched.append((class_key, row))
        if not matched:
            return
        if not forward:
            for node, row in matched:
                # A serial's batch is upstream of it: the batch's origin is the item's origin.
                if node == row[1] and row[2] and row[2] != node:
                    self.add_node(row[2], depth, when, new)
                    self.add_edge(row[2], node, event, "batch", None, "", False)
        # in_time, inline: it runs for every matched row of every event read.
        reached = self.reached.get
        if forward:
            matched = [pair for pair in matched if (since := reached(pair[0])) is None or when >= since]
        else:
            matched = [pair for pair in matched if (since := reached(pair[0])) is None or when <= since]
        if not matched:
            return
        kind = event[E_TYPE]
        if kind == "TransformationEvent":
            if forward:
                outs = [r for r in rows if r[0] in OUTPUT_ROLES]
                for node, row in matched:
                    if row[0] in INPUT_ROLES:
                        for out in outs:
                            self.add_node(out[1], depth, when, new)
                            self.add_edge(node, out[1], event, "transformed", out[3], out[4], True)
            else:
                ins = [r for r in rows if r[0] in INPUT_ROLES]
                for node, row in matched:
                    if row[0] in OUTPUT_ROLES:
                        for inp in ins:
                            self.add_node(inp[1], depth, when, new)
                            self.add_edge(inp[1], node, event, "transformed", inp[3], inp[4], True)
            return
        if kind == "AggregationEvent":
            parents = [r for r in rows if r[0] == R.PARENT]
            children = [r for r in rows if r[0] in CHILD_ROLES]
            delete = event[E_ACTION] == "DELETE"
            for node, row in matched:
                is_child, is_parent = row[0] in CHILD_ROLES, row[0] == R.PARENT
                if (forward and is_child and not delete) or (not forward and is_child and delete):
                    for parent in parents:
                        self.add_node(parent[1], depth, when, new)
                        if delete:
                            self.add_edge(parent[1], node, event, "unpacked", row[3], row[4], True)
                        else:
                            self.add_edge(node, parent[1], event, "packed", row[3], row[4], True)
                elif (forward and is_parent and delete) or (not forward and is_parent and not delete):
                    for child in children:
                        self.add_node(child[1], depth, when, new)
                        if delete:
                            self.add_edge(node, child[1], event, "unpacked", child[3], child[4], True)
                        else:
                            self.add_edge(child[1], node, event, "packed", child[3], child[4], True)
            return
        # ObjectEvent, TransactionEvent (and AssociationEvent, read the same way).
        items = [pair for pair in matched if pair[1][0] in ITEM_OR_PARENT_ROLES]
        if not items:
            return
        step = event[E_WORD]
        place = event[E_PLACE]
        pk = event[E_PK]
        if forward:
            if step in RECEIVING_STEPS:
                relation = "received_at"
                targets = [place] if place else self.places(rows, R.DESTINATION)
            else:
                relation = "shipped_to"
                targets = self.places(rows, R.DESTINATION)
            pairs = [(target, relation) for target in targets]
        else:
            # A receipt names its sender too; kept apart so a shipment and its receipt are not added up.
            relation = "received_from" if step in RECEIVING_STEPS else "shipped_from"
            pairs = [(s, relation) for s in self.places(rows, R.SOURCE)]
            if event[E_ACTION] == "ADD" and place:
                pairs.append((place, "produced_at"))
        # add_node and add_edge, inline (tens of thousands of events go through here). A row without a
        # quantity counts one item.
        nodes, edges, quantities = self.nodes, self.edges, self.quantities
        for target, relation in pairs:
            if target not in nodes:
                self.add_node(target, depth, when, new)
            for node, row in items:
                key = (pk, node, target, relation) if forward else (pk, target, node, relation)
                quantity = quantities[row[3]]
                if quantity is None:
                    quantity = 1
                edge = edges.get(key)
                if edge is None:
                    edges[key] = [quantity, row[4]]
                else:
                    edge[0] = (edge[0] or 0) + quantity

    @staticmethod
    def places(rows, role: str) -> list[str]:
        """The sources/destinations of an event: its ``location`` entries if any, else its parties."""
        entries = [r for r in rows if r[0] == role]
        if len(entries) == 1:
            # One entry: it is the answer whatever its kind.
            return [entries[0][1]]
        locations = [r[1] for r in entries if r[5] == "location" or _step_word(r[5] or "") == "location"]
        return sorted(set(locations or [r[1] for r in entries]))


def _event_time(value) -> dt.datetime:
    """An event time as read by ``_read_events`` (UTC text on PostgreSQL, the stored text on SQLite) as
    the aware datetime the ORM gives."""
    if connection.vendor == "postgresql":
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return connection.ops.convert_datetimefield_value(value, None, connection)


def _place(value: str) -> str:
    """An event's bizLocation in canonical form ('' when there is none)."""
    if not value:
        return ""
    if _CANONICAL_GLN.fullmatch(value):
        # Capture stores canonical Digital Links: a 13-digit GLN path is its own canonical form (or, with
        # a wrong check digit, cannot be parsed and stays as stored) — no parse per event.
        return value
    return _normalised_place(value)


@functools.lru_cache(maxsize=4096)
def _normalised_place(value: str) -> str:
    try:
        return identifiers.normalise(value)
    except identifiers.IdentifierError:
        return value


def trace(text: str, direction: str = FORWARD, user=None, max_depth: int | None = None,
          max_nodes: int | None = None) -> dict:
    """Trace ``text`` (any identifier form ``parse_lookup_code`` reads) forward (where it went) or
    backward (where it came from), over the events ``user`` may see (all when ``user`` is None).

    Returns ``{"query", "nodes", "edges", "holders", "summary"}`` (see the module docstring); raises
    ``TraceError`` for a bad identifier, direction or limit, or when no visible event names it.
    """
    if direction not in DIRECTIONS:
        raise TraceError("bad_direction", _("追溯方向应为 forward（正向）或 backward（反向）。"))
    max_depth = DEFAULT_MAX_DEPTH if max_depth is None else max_depth
    max_nodes = DEFAULT_MAX_NODES if max_nodes is None else max_nodes
    if not 1 <= max_depth <= LIMIT_MAX_DEPTH:
        raise TraceError("bad_max_depth", _("追溯层数应在 1 到 %(limit)d 之间。") % {"limit": LIMIT_MAX_DEPTH})
    if not 1 <= max_nodes <= LIMIT_MAX_NODES:
        raise TraceError("bad_max_nodes", _("节点上限应在 1 到 %(limit)d 之间。") % {"limit": LIMIT_MAX_NODES})
    key = parse_start(text)
    with _collector_paused():
        return _trace(text, key.canonical, direction, user, max_depth, max_nodes)



@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector while a trace builds its result. A large trace allocates
    some 200,000 tuples, lists and dicts, none of them in a reference cycle; with the collector running,
    those allocations set off collections that walk every object of the process again and again (about
    half the trace's CPU time on a 10,000-node trace, see ``bench/bench_trace.py``). Nothing is leaked:
    the collector runs again as soon as it is resumed. A collector already paused by the caller stays
    paused."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _trace(text: str, start: str, direction: str, user, max_depth: int, max_nodes: int) -> dict:
    """``trace`` once its arguments are checked."""
    walk = _Walk(direction, user)
    frontier: set[str] = set()
    walk.add_node(start, 0, None, frontier)
    truncated = None
    depth = 0
    while frontier:
        if depth >= max_depth:
            truncated = {"reason": "max_depth", "message": _(
                "已达到追溯层数上限（%(limit)d 层），更远的环节未展开；可增大层数上限后重试。") % {"limit": max_depth}}
            break
        depth += 1
        frontier = walk.step(frontier, depth)
        if len(walk.nodes) > max_nodes:
            truncated = {"reason": "max_nodes", "message": _(
                "节点数超过上限（%(limit)d 个），追溯在第 %(depth)d 层停止，结果不完整。") % {"limit": max_nodes,
                                                                               "depth": depth}}
            break
    if not walk.events:
        raise TraceError("not_found", _("未找到标识“%(id)s”的追溯记录（或不在您的查看范围内）。") % {"id": start})
    # Keep the nodes nearest the start (and the edges between them), so the cap is a real bound.
    order = sorted(zip(walk.nodes.values(), walk.nodes, strict=True))[:max_nodes]  # (depth, identifier)
    nodes = _describe_nodes(order, user)
    edge_rows = _edge_rows(walk, {identifier for _depth, identifier in order} if len(order) < len(walk.nodes)
                           else None)
    return {
        "query": {"input": text, "identifier": start, "kind": node_kind(start), "direction": direction,
                  "max_depth": max_depth, "max_nodes": max_nodes},
        "nodes": nodes,
        "edges": _edges(edge_rows),
        "holders": _holders(edge_rows, {n["id"]: n for n in nodes}),
        "summary": {"nodes": len(nodes), "edges": len(edge_rows), "events": len(walk.events), "depth": depth,
                    "truncated": truncated, "scope_limited": bool(walk.hidden)},
    }


def _edge_rows(walk: _Walk, found: set[str] | None) -> list[tuple]:
    """The edges between ``found`` nodes (all when None: every edge joins two nodes of the walk) as
    (source, target, event tuple, relation, quantity for JSON, uom), by time, then from and to (then as
    the walk met them)."""
    events = walk.events
    # Times sort by their rank among the distinct times (ints compare faster than datetimes); the sequence
    # number keeps the walk's order among equal keys (as a stable sort would) and ends each comparison
    # there: tuples sort faster than a key function.
    rank = {moment: n for n, moment in enumerate(sorted({moment for moment, _iso in walk.times.values()}))}
    kept = [(rank[events[key[0]][E_TIME]], key[1], key[2], seq, key[0], key[3], value)
            for seq, (key, value) in enumerate(walk.edges.items())
            if found is None or (key[1] in found and key[2] in found)]
    kept.sort()
    # Quantities repeat (and are mostly ints): each distinct one is converted once.
    numbers = {quantity: _number(quantity) for quantity in {row[6][0] for row in kept}}
    return [(source, target, events[pk], relation, numbers[quantity], uom)
            for _rank, source, target, _seq, pk, relation, (quantity, uom) in kept]


def _edges(rows: list[tuple]) -> list[dict]:
    """The edge dicts of the trace result, from ``_edge_rows``."""
    relations = {key: str(label) for key, label in RELATIONS.items()}
    for relation in {row[3] for row in rows} - relations.keys():
        relations[relation] = relation
    return [{"from": source, "to": target, "event": event[E_ID], "event_type": event[E_TYPE],
             "action": event[E_ACTION], "biz_step": event[E_STEP], "time": event[E_ISO], "relation": relation,
             "quantity": quantity, "uom": uom, "relation_label": relations[relation]}
            for source, target, event, relation, quantity, uom in rows]


def _describe_nodes(order: list[tuple[int, str]], user) -> list[dict]:
    """Nodes ((depth, identifier) in order) with the entity, location and region of their GLN when the
    user may see that location."""
    described: list[tuple[str, int, str, str]] = []
    append = described.append
    for depth, identifier in order:
        if identifier.startswith(PLACE_PREFIXES):
            # What node_kind and _gln say of a place, without parsing the path twice per node.
            kind = "location" if identifier[19:22] == "414" else "party"
            append((identifier, depth, kind, identifier[23:].split("/", 1)[0]))
        else:
            append((identifier, depth, node_kind(identifier), _gln(identifier)))
    glns = {row[3] for row in described} - {""}
    located: dict[str, tuple] = {}
    if glns:
        queryset = Location.objects.all() if user is None else Location.objects.restrict(user)
        queryset = queryset.filter(gln__in=_members(sorted(glns), "varchar")).order_by().values_list(
            "gln", "name", "entity_id", "entity__name", "region_id", "region__name")
        # The queryset's SQL run on a cursor: plain text and integer columns, so the rows are what
        # values_list would give, without its per-row iteration (ten thousand places in a large trace).
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            located = {row[0]: row for row in cursor.fetchall()}
    kinds = {key: str(label) for key, label in KIND_LABELS.items()}
    words = {"batch": _("批号"), "serial": _("序列号")}
    no_row = None
    return [{"id": identifier, "kind": kind, "label": f"{row[1]}（{row[3]}）", "depth": depth,
             "kind_label": kinds[kind], "gln": gln, "location": row[1], "entity": row[3],
             "entity_id": row[2], "region": row[5], "region_code": row[4], "in_scope": True}
            if (row := located.get(gln, no_row) if gln else no_row) is not None else
            {"id": identifier, "kind": kind, "label": _label(identifier, words), "depth": depth,
             "kind_label": kinds[kind], "gln": gln, "location": "", "entity": "", "entity_id": None,
             "region": "", "region_code": "", "in_scope": not gln}
            for identifier, depth, kind, gln in described]


HOLDER_FIELDS = {"shipped_to": "shipped", "received_at": "received", "shipped_from": "shipped",
                 "received_from": "received", "produced_at": "produced"}
INBOUND_RELATIONS = frozenset({"shipped_to", "received_at"})  # the place is the edge's "to"


def _holders(rows: list[tuple], nodes: dict[str, dict]) -> list[dict]:
    """Per place and item: the quantity shipped to it and received there (forward), or shipped from it,
    received from it and produced there (backward), from ``_edge_rows``. ``quantity`` is what the
    receipts say when there are receipts (a shipment and its receipt are the same goods), else what the
    shipments or production say."""
    table: dict[tuple, dict] = {}
    fields = HOLDER_FIELDS
    inbound = INBOUND_RELATIONS
    for source, target, _event, relation, quantity, uom in rows:
        field = fields.get(relation)
        if field is None:
            continue
        place, item = (target, source) if relation in inbound else (source, target)
        key = (place, item, uom)
        row = table.get(key)
        if row is None:
            node = nodes[place]
            row = table[key] = {
                "place": place, "gln": node["gln"], "location": node["location"], "entity": node["entity"],
                "entity_id": node["entity_id"], "region": node["region"], "region_code": node["region_code"],
                "in_scope": node["in_scope"], "item": item, "item_label": nodes[item]["label"],
                "shipped": 0, "received": 0, "produced": 0, "uom": uom, "events": 0}
        row[field] += quantity or 0
        row["events"] += 1
    out = list(table.values())
    for row in out:
        row["quantity"] = row["received"] or row["shipped"] or row["produced"]
    out.sort(key=operator.itemgetter("region_code", "entity", "gln", "item"))
    return out


# --- tables for export --------------------------------------------------------------------------------

EXPORT_TABLES = {"holders": gettext_lazy("追溯去向汇总"), "edges": gettext_lazy("追溯环节明细")}


def export_table(result: dict, table: str) -> tuple[list[str], list[list]]:
    """Headers and rows of the holders or edges table of a trace result (for CSV downloads)."""
    labels = {n["id"]: n["label"] for n in result["nodes"]}
    if table == "holders":
        headers = [_("位置码（GLN）"), _("位置"), _("市场主体"), _("所在区划"), _("追溯对象"), _("发运数量"),
                   _("收货数量"), _("生产数量"), _("数量"), _("计量单位"), _("事件数")]
        rows = [[h["gln"], h["location"] or _("辖区外位置"), h["entity"], h["region"], h["item_label"], h["shipped"],
                 h["received"], h["produced"], h["quantity"], h["uom"], h["events"]] for h in result["holders"]]
        return headers, rows
    if table == "edges":
        headers = [_("时间"), _("环节"), _("从"), _("到"), _("事件类型"), _("业务步骤"), _("数量"), _("计量单位"),
                   _("事件标识")]
        rows = [[e["time"], e["relation_label"], labels.get(e["from"], e["from"]), labels.get(e["to"], e["to"]),
                 e["event_type"], e["biz_step"], "" if e["quantity"] is None else e["quantity"], e["uom"], e["event"]]
                for e in result["edges"]]
        return headers, rows
    raise TraceError("bad_table", _("没有这张表：%(table)s（可选 holders 或 edges）。") % {"table": table})
