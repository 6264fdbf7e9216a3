"""Strict parsing of settings from the environment.

A bad value stops start-up with a message that names the variable, the value and what was
expected, because a silently-defaulted production setting is worse than a refusal to start.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable as a string, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean; only 1/0, true/false, yes/no, on/off (any case) are accepted."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"环境变量 {name}={raw!r} 无效：应为 true/false、1/0、yes/no 或 on/off。"
        f" (Invalid {name}={raw!r}: expected a boolean such as true or false.)"
    )


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    """Parse an integer, optionally bounded below."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"环境变量 {name}={raw!r} 无效：应为整数。 (Invalid {name}={raw!r}: expected an integer.)"
        ) from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(
            f"环境变量 {name}={value} 无效：不得小于 {minimum}。 (Invalid {name}: must be >= {minimum}.)"
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Parse a comma-separated list; empty items are refused rather than ignored."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"环境变量 {name}={raw!r} 无效：逗号分隔的列表中有空项。"
            f" (Invalid {name}={raw!r}: empty item in comma-separated list.)"
        )
    return items


def database_from_url(url: str) -> dict:
    """Turn ``DATABASE_URL`` into a Django DATABASES entry; only SQLite and PostgreSQL are supported."""
    import dj_database_url

    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql", "postgis"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r} 无效：仅支持 sqlite:/// 与 postgres:// 。"
            f" (Invalid DATABASE_URL: only sqlite:/// and postgres:// URLs are supported.)"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60 if scheme != "sqlite" else 0)
    except Exception as exc:  # the library raises several types for malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} 无法解析：{exc} (cannot be parsed)") from exc
    if config["ENGINE"].endswith("sqlite3"):
        if not config.get("NAME"):
            raise ImproperlyConfigured("DATABASE_URL 未给出 SQLite 文件路径。 (DATABASE_URL names no SQLite file.)")
        # WAL lets the dev server read while an import writes; a longer timeout avoids spurious locks.
        config.setdefault("OPTIONS", {}).update(
            {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
        )
    else:
        # PostgreSQL compiles a query with JIT once its estimated cost passes jit_above_cost (100,000 by
        # default): the platform's index-driven reads of tens of thousands of rows pass it and then spend
        # more on compiling (8 ms each for the trace's reads of a 10,000-node trace, bench/bench_trace.py)
        # than JIT saves them. Ten times the default keeps JIT for the large scans it is made for.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit_above_cost=1000000".strip()
    return config
