"""Baseline for ``bench_credit_lookup.py``: the public credit lookup by USCC as a bare WSGI function.

No framework: one psycopg connection per server thread, three hand-written queries — the registered
entity with its region, grade and pending objection/repair flags; its publicly visible records with
the visible statement and per-record pending flags; its open list entries — and ``json.dumps``.
The same answer, field for field, as ``GET /api/v1/public/credit/entities/<uscc>/`` (``query.public_file``),
minus the checks a platform makes (USCC check characters, locale, middleware): the floor a framework
adds to. The database comes from ``BENCH_DSN`` (a libpq connection string or URL).

    BENCH_DSN=postgres://… gunicorn --chdir bench minimal_lookup_app:application
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from zoneinfo import ZoneInfo

import psycopg

PREFIX = "/api/v1/public/credit/entities/"
USCC = re.compile(r"[0-9A-Z]{18}")
ZONE = ZoneInfo("Asia/Shanghai")
KIND_LABELS = {
    "spot_check_unqualified": "监督抽查不合格", "spot_check_serious": "监督抽查严重不合格",
    "refused_sampling": "拒绝监督抽查", "administrative_penalty": "行政处罚", "licence_suspension": "许可证件暂扣",
    "licence_revocation": "许可证件吊销", "quality_accident": "质量事故", "verified_complaint": "投诉属实",
    "verified_tip_off": "举报属实", "recall": "缺陷产品召回", "certification_obtained": "获得认证",
    "certification_withdrawn": "认证撤销", "award": "质量奖励", "abnormal_operation_listing": "列入经营异常名录",
    "serious_violation_listing": "列入严重违法失信名单",
}
LIST_LABELS = {"serious_violation": "严重违法失信名单", "abnormal_operation": "经营异常名录"}

ENTITY_SQL = """
SELECT e.id, e.name, e.uscc, e.region_id, r.name, s.grade, s.as_of,
       EXISTS (SELECT 1 FROM credit_creditobjection o WHERE o.entity_id = e.id AND o.status = 'received'),
       EXISTS (SELECT 1 FROM credit_repairapplication a WHERE a.entity_id = e.id
               AND a.status IN ('submitted', 'accepted'))
FROM registry_marketentity e
LEFT JOIN core_region r ON r.code = e.region_id
LEFT JOIN credit_entityscore s ON s.entity_id = e.id
WHERE e.uscc = %s AND e.status IN ('operating', 'suspended')"""
RECORDS_SQL = """
SELECT c.id, c.kind, c.polarity, c.occurred_on, c.summary, c.department, c.state, c.publish_from, c.publish_until,
       st.text, st.updated, st.visible,
       EXISTS (SELECT 1 FROM credit_creditobjection o WHERE o.record_id = c.id AND o.status = 'received'),
       EXISTS (SELECT 1 FROM credit_repairapplication a WHERE a.record_id = c.id
               AND a.status IN ('submitted', 'accepted'))
FROM credit_creditrecord c
LEFT JOIN credit_entitystatement st ON st.record_id = c.id
WHERE c.entity_id = %s AND c.publishable AND c.state = 'active' AND c.publish_from <= %s AND c.publish_until >= %s
ORDER BY c.occurred_on DESC, c.id DESC"""
LISTS_SQL = """
SELECT kind, grounds, legal_basis, decision_number, department, listed_on, removal_due_on
FROM credit_listentry WHERE entity_id = %s AND status = 'listed' ORDER BY listed_on DESC, id DESC"""

_local = threading.local()


def _cursor():
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["BENCH_DSN"], autocommit=True)
    return conn.cursor()


def _day(value):
    return value.isoformat() if value else None


def _answer(start_response, status: str, body: dict):
    data = json.dumps(body, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def lookup(uscc: str, today: dt.date) -> dict | None:
    """The public credit file of the registered entity with ``uscc`` on ``today``, or None."""
    with _cursor() as cur:
        cur.execute(ENTITY_SQL, (uscc,))
        row = cur.fetchone()
        if row is None:
            return None
        pk, name, code, region, region_name, grade, as_of, objection, repair = row
        cur.execute(RECORDS_SQL, (pk, today, today))
        records = []
        for (rid, kind, polarity, occurred, summary, department, state, pub_from, pub_until, text, updated, visible,
             r_objection, r_repair) in cur.fetchall():
            statement = None
            if text is not None and visible:
                statement = {"text": text, "updated": updated.astimezone(ZONE).date().isoformat()}
            records.append({"record": rid, "kind": kind, "kind_label": KIND_LABELS.get(kind, kind),
                            "polarity": polarity, "occurred_on": occurred.isoformat(), "summary": summary,
                            "department": department, "state": state, "publish_from": _day(pub_from),
                            "publish_until": _day(pub_until), "statement": statement,
                            "objection_deadline": _day(pub_until), "re_evaluation_pending": r_objection or r_repair})
        cur.execute(LISTS_SQL, (pk,))
        entries = [{"kind": kind, "kind_label": LIST_LABELS.get(kind, kind), "grounds": grounds,
                    "legal_basis": basis, "decision_number": number, "department": department,
                    "listed_on": listed.isoformat(), "removal_due_on": _day(due)}
                   for kind, grounds, basis, number, department, listed, due in cur.fetchall()]
    graded = {"grade": grade, "as_of": as_of.isoformat(), "label": grade} if grade else \
        {"grade": None, "as_of": None, "label": "尚未评级"}
    return {"entity": {"name": name, "uscc": code, "region": region, "region_name": region_name},
            "grade": graded, "re_evaluation_pending": bool(objection or repair), "records": records,
            "lists": entries, "as_of": today.isoformat()}


def application(environ, start_response):
    """WSGI entry point: ``GET /api/v1/public/credit/entities/<uscc>/``."""
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(PREFIX):
        return _answer(start_response, "404 Not Found", {"code": "not_found"})
    uscc = path[len(PREFIX):].rstrip("/").upper()
    if not USCC.fullmatch(uscc):
        return _answer(start_response, "400 Bad Request", {"code": "invalid_uscc"})
    result = lookup(uscc, dt.datetime.now(ZONE).date())
    if result is None:
        return _answer(start_response, "404 Not Found", {"code": "not_found"})
    return _answer(start_response, "200 OK", result)
