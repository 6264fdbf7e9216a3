"""Benchmark: import N market entities from CSV, beside a raw bulk insert of the same rows.

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--keep]

Uses the database named by DATABASE_URL (SQLite by default) but never its data: a fresh database
is made with Django's test-database machinery (``qualitygov_bench`` on PostgreSQL,
``var/bench/bench-<pid>.sqlite3`` on SQLite), migrated and loaded with the reference data, and dropped at
the end unless ``--keep`` is given.

Steps, each measured phase in a child process of its own so that its peak memory is its own:

1. generate a CSV of N entities with valid USCCs (check characters from python-stdnum), written
   as a stream into a temporary directory;
2. baseline: a raw bulk insert of the same rows into the same table, with no validation
   (``COPY`` on PostgreSQL, ``executemany`` on SQLite, one transaction);
3. the table is emptied, then ``importing.import_file`` imports the CSV (validation, staging,
   merge, audit entry, one transaction).

Goals (issue 2, item 13): the import reaches at least 0.5× the baseline's rows/s, and its process
peaks under 500 MB (peak resident set size from ``getrusage(RUSAGE_SELF).ru_maxrss``: the whole
process, interpreter and Django included).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from _support import emit_result, fresh_database, run_child  # noqa: E402  (bench/ is on sys.path as the script's folder)

GOAL_RATIO = 0.5
GOAL_MEMORY_MB = 500
BATCH = 10_000
BENCH_PG_NAME = "qualitygov_bench"
# One file per run, so two runs (or anything else under var/) never share it.
BENCH_SQLITE = PROJECT_DIR / "var" / "bench" / f"bench-{os.getpid()}.sqlite3"

HEADER = ["统一社会信用代码", "名称", "法定代表人", "区划代码", "行业代码", "住所", "企业规模", "成立日期", "登记状态",
          "联系电话"]
SIZES = [("大型", "large", 2), ("中型", "medium", 8), ("小型", "small", 40), ("微型", "micro", 50)]
STATUSES = [("存续（在营）", "operating", 90), ("停业", "suspended", 3), ("吊销", "revoked", 3), ("注销", "cancelled", 4)]
# Jilin's largest industries by entity count carry most of the weight (demo-grade shares).
INDUSTRIES = [("51", 20), ("52", 25), ("36", 6), ("13", 8), ("14", 4), ("27", 2), ("26", 3), ("30", 3),
              ("47", 6), ("54", 5), ("61", 6), ("62", 8), ("70", 4)]
BRANDS = ["长白", "松花", "一汽", "华光", "金达", "吉安", "鑫源", "宏泰", "瑞丰", "北方", "东盛", "恒通", "兴隆", "天利",
          "盛达", "永和", "嘉禾", "德信", "润泽", "博远"]
TRADES = ["汽车零部件", "粮油食品", "人参制品", "建材", "化工", "医药", "纺织", "电子", "机械", "商贸"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚"
ROADS = ["人民大街", "解放大路", "自由大路", "亚泰大街", "卫星路", "长白路", "延安大街", "北京大街", "吉林大路", "建设街"]


def _weighted(pairs, rng):
    values = [p[:-1] if len(p) > 2 else p[0] for p in pairs]
    weights = [p[-1] for p in pairs]
    return lambda: rng.choices(values, weights)[0]


# --- phases --------------------------------------------------------------------------------------

def generate(path: Path, rows: int, seed: int = 2012) -> None:
    """Write ``rows`` valid entities to ``path`` as a UTF-8 CSV with BOM, one row at a time."""
    from stdnum.cn import uscc as stdnum_uscc

    from qualitygov.core.identifiers import USCC_ALPHABET, org_code_check_char
    from qualitygov.core.models import Region

    rng = random.Random(seed)
    counties = list(Region.objects.filter(level="county").values_list("code", "name", "parent__name"))
    size, status, industry = _weighted(SIZES, rng), _weighted(STATUSES, rng), _weighted(INDUSTRIES, rng)
    base = len(USCC_ALPHABET)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for serial in range(1, rows + 1):
            # Organisation code body: the serial in the USCC alphabet, so every code is unique.
            digits, n = [], serial
            for _ in range(8):
                n, r = divmod(n, base)
                digits.append(USCC_ALPHABET[r])
            body = "".join(reversed(digits))
            code, county, city = counties[serial % len(counties)]
            first17 = "91" + code + body + org_code_check_char(body)
            uscc = first17 + stdnum_uscc.calc_check_digit(first17)
            brand, trade = rng.choice(BRANDS), rng.choice(TRADES)
            day = 7300 + rng.randrange(12000)
            writer.writerow([
                uscc, f"{city}{brand}{trade}有限公司", rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                code, industry(), f"吉林省{city}{county}{rng.choice(ROADS)}{rng.randrange(1, 3000)}号",
                size()[0], _date(day), status()[0], f"0431-8{rng.randrange(1000000):06d}",
            ])


def _date(days_since_1970: int) -> str:
    import datetime as dt

    return (dt.date(1970, 1, 1) + dt.timedelta(days=days_since_1970)).isoformat()


def empty_table() -> None:
    from django.db import connection

    from qualitygov.registry.models import MarketEntity

    table = connection.ops.quote_name(MarketEntity._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {table} CASCADE")
            cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute("VACUUM")


def baseline(path: Path) -> dict:
    """Insert the CSV's rows into the entity table as they are: no validation, no staging."""
    from django.db import connection, transaction
    from django.utils import timezone

    from qualitygov.registry.models import MarketEntity

    sizes = {label: key for label, key, _w in SIZES}
    statuses = {label: key for label, key, _w in STATUSES}
    table = connection.ops.quote_name(MarketEntity._meta.db_table)
    columns = ["uscc", "name", "legal_representative", "region_id", "industry_id", "address", "size_class",
               "registration_date", "status", "phone", "created", "updated"]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    start = time.perf_counter()
    count = 0
    with open(path, encoding="utf-8-sig", newline="") as handle, transaction.atomic(), \
            connection.cursor() as cursor:
        reader = csv.reader(handle)
        next(reader)
        rows = ((r[0], r[1], r[2], r[3], r[4], r[5], sizes[r[6]], r[7], statuses[r[8]], r[9], now, now)
                for r in reader)
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
    return {"rows": count, "seconds": time.perf_counter() - start}


def run_import(path: Path) -> dict:
    from qualitygov.registry.importing import import_file

    start = time.perf_counter()
    with open(path, "rb") as handle:
        report = import_file("entities", handle, path.name, user=None)
    seconds = time.perf_counter() - start
    return {"rows": report.rows, "created": report.created, "ok": report.ok, "error_count": report.error_count,
            "errors": report.errors[:5], "seconds": seconds}


def child(phase: str, path: Path) -> None:
    import django

    django.setup()
    empty_table()
    result = baseline(path) if phase == "baseline" else run_import(path)
    from qualitygov.registry.models import MarketEntity

    result["table_rows"] = MarketEntity.objects.count()
    emit_result(result)


# --- driver --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="entities to import (default 1,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and the CSV")
    parser.add_argument("--phase", choices=["baseline", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualitygov.settings")
    if args.phase:
        child(args.phase, args.csv)
        return

    import django

    django.setup()
    description, url, destroy = fresh_database(BENCH_PG_NAME, BENCH_SQLITE)
    workdir = Path(tempfile.mkdtemp(prefix="qualitygov-bench-"))
    path = workdir / "entities.csv"
    try:
        print(f"database: {description}")
        start = time.perf_counter()
        generate(path, args.rows)
        print(f"generated: {args.rows:,} entities, {path.stat().st_size / 1e6:,.1f} MB CSV "
              f"in {time.perf_counter() - start:.1f} s ({path})")
        from django.db import connection

        connection.close()
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "qualitygov.settings"}
        base = run_child(__file__, ["--phase", "baseline", "--csv", str(path)], env, "baseline")
        imp = run_child(__file__, ["--phase", "import", "--csv", str(path)], env, "import")
        if not imp["ok"] or imp["table_rows"] != args.rows:
            raise SystemExit(f"import failed: {imp}")
        base_rate = base["rows"] / base["seconds"]
        imp_rate = imp["rows"] / imp["seconds"]
        ratio = imp_rate / base_rate
        kind = "COPY" if url.startswith("postgres") else "executemany"
        print(f"baseline ({kind}, no validation): {base['rows']:,} rows in {base['seconds']:.2f} s = "
              f"{base_rate:,.0f} rows/s (peak RSS {base['peak_rss_mb']:.0f} MB)")
        print(f"import (import_file: validate, stage, merge, audit): {imp['rows']:,} rows in {imp['seconds']:.2f} s = "
              f"{imp_rate:,.0f} rows/s")
        print(f"ratio import/baseline: {ratio:.2f}x (goal >= {GOAL_RATIO}x: {'met' if ratio >= GOAL_RATIO else 'NOT met'})")
        print(f"peak memory of the import process: {imp['peak_rss_mb']:.0f} MB (getrusage ru_maxrss, whole process "
              f"incl. interpreter and Django) (goal < {GOAL_MEMORY_MB} MB: "
              f"{'met' if imp['peak_rss_mb'] < GOAL_MEMORY_MB else 'NOT met'})")
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
            workdir.rmdir()
            destroy()
        else:
            print(f"kept: {path} and the bench database ({url})")


if __name__ == "__main__":
    main()
