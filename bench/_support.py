"""What every benchmark in bench/ shares: a fresh throwaway database, child processes that measure
one phase each (so peak memory is that phase's own), and the result line they print.

Not a benchmark itself (``make bench`` runs ``bench/bench_*.py`` only).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent


def emit_result(result: dict) -> None:
    """Print a phase's figures with its peak memory (Linux reports ru_maxrss in kilobytes)."""
    from django.db import connection

    connection.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result, ensure_ascii=False))


def run_child(script: str, args: list[str], env: dict, phase: str) -> dict:
    """Run one phase of ``script`` in its own process and return the figures it printed."""
    proc = subprocess.run([sys.executable, script, *args], env=env, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.stderr.write(proc.stdout + proc.stderr)
    raise SystemExit(f"{phase} phase failed (exit {proc.returncode})")


def fresh_database(pg_name: str, sqlite_path: Path) -> tuple[str, str, Callable[[], None]]:
    """Create and migrate a throwaway database with the reference data loaded.

    Returns (description, DATABASE_URL for child processes, destroy). On PostgreSQL a database of
    the same name left by an interrupted or ``--keep`` run is dropped first.
    """
    from django.conf import settings
    from django.db import connection

    from qualitygov.core.reference import load_reference_data

    source_url = os.environ.get("DATABASE_URL", "")
    db = settings.DATABASES["default"]
    old_name = db["NAME"]
    if connection.vendor == "postgresql":
        db.setdefault("TEST", {})["NAME"] = pg_name
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
    else:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        db.setdefault("TEST", {})["NAME"] = str(sqlite_path)
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    load_reference_data()
    if connection.vendor == "postgresql":
        parts = urlsplit(source_url)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        description = f"PostgreSQL {version}, fresh database {name}"
    else:
        import sqlite3

        url = f"sqlite:///{name}"
        description = f"SQLite {sqlite3.sqlite_version}, fresh file {Path(name).relative_to(PROJECT_DIR)}"

    def destroy():
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)

    return description, url, destroy
