"""Settings are read strictly from the environment: a bad value stops start-up with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _start(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "COMPLAINTS_ENCRYPTION_KEYS")}
    env.update(env_overrides)
    code = "import django; django.setup(); from django.conf import settings; print(settings.TIME_ZONE, settings.LANGUAGE_CODE)"
    return subprocess.run([sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "qualitygov.settings"},
                          capture_output=True, text=True, check=False, cwd=os.getcwd())


def test_development_defaults_just_work(tmp_path):
    result = _start({"QUALITYGOV_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Asia/Shanghai zh-hans"


@pytest.mark.parametrize("env,fragment", [
    ({"DEBUG": "maybe"}, "DEBUG='maybe'"),
    ({"DEBUG": "false"}, "SECRET_KEY"),
    ({"DEBUG": "false", "SECRET_KEY": "x" * 40}, "ALLOWED_HOSTS"),
    ({"SECRET_KEY": "short"}, "至少需要 32 个字符"),
    ({"DATABASE_URL": "mysql://localhost/db"}, "仅支持 sqlite"),
    ({"ALLOWED_HOSTS": "a.example,,b.example"}, "空项"),
    ({"PAGINATE_BY": "lots"}, "应为整数"),
    ({"PAGINATE_BY": "0"}, "不得小于 1"),
    ({"DEBUG": "false", "SECRET_KEY": "x" * 40, "ALLOWED_HOSTS": "qg.example.cn"}, "COMPLAINTS_ENCRYPTION_KEYS"),
    ({"COMPLAINTS_ENCRYPTION_KEYS": "not-a-fernet-key"}, "无效的密钥"),
])
def test_bad_values_stop_start_up(env, fragment, tmp_path):
    result = _start({"QUALITYGOV_VAR_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert fragment in result.stderr


def test_production_values_accepted(tmp_path):
    result = _start({"DEBUG": "false", "SECRET_KEY": "p" * 50, "ALLOWED_HOSTS": "qg.example.cn",
                     "COMPLAINTS_ENCRYPTION_KEYS": "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=",
                     "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}"})
    assert result.returncode == 0, result.stderr


def test_postgresql_connections_compile_only_large_queries_with_jit():
    """A PostgreSQL DATABASE_URL gets jit_above_cost ten times PostgreSQL's default, keeping options
    the URL gives; SQLite gets no such option."""
    from qualitygov.env import database_from_url

    config = database_from_url("postgres://user@db.example:5432/qualitygov")
    assert config["OPTIONS"]["options"] == "-c jit_above_cost=1000000"
    config = database_from_url("postgres://user@db.example:5432/qualitygov?options=-c%20statement_timeout%3D5000")
    assert config["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit_above_cost=1000000"
    assert "options" not in database_from_url("sqlite:///tmp/x.sqlite3")["OPTIONS"]
