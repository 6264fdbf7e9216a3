"""Browser journeys: one Chromium per test session (Debian's /usr/bin/chromium, driven by Playwright's
sync API, never a browser Playwright downloads itself), a fresh context per test, and the live test
server of pytest-django (which serves static files through django.contrib.staticfiles).

``make browser`` (and ``make test``) installs Chromium; run just these tests with ``pytest -m browser``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The shared fixtures live in qualitygov/conftest.py, which only covers tests under qualitygov/.
from qualitygov.conftest import PASSWORD, registry, users  # noqa: F401
from qualitygov.inspection.tests.fixtures import workflow  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VENDOR = Path(__file__).resolve().parents[2] / "qualitygov" / "static" / "vendor"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every journey of this test process."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    if not (VENDOR / "echarts" / "echarts.min.js").exists():
        pytest.fail(f"{VENDOR} is missing: run `make setup` (npm ci, then scripts/vendor-assets.sh)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses ORM
    # calls from a thread with a running loop unless told that this is safe. It is: the tests only
    # query the database between browser steps, never from inside the loop. Set for the browser
    # session only, and restored afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    """Regions, industries and categories for every journey.

    Live-server tests are transactional: pytest-django empties every table after each of them, the
    reference data loaded once per test database included. Loading is idempotent and takes a few
    milliseconds. (pytest-django runs transactional tests after all the others, so the emptied
    tables are never seen by a test that expects the session's reference data.)
    """
    from qualitygov.core.reference import load_reference_data

    load_reference_data()


@pytest.fixture
def new_context(browser, live_server):
    """Factory of browser contexts, closed after the test; by default a Chinese user's browser
    (zh-CN, Beijing time, a desktop window)."""
    made = []

    def _new(locale: str = "zh-CN"):
        ctx = browser.new_context(locale=locale, timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
        ctx.set_default_timeout(10_000)
        # Chromium asks for /favicon.ico on every page; the answer is the site's 404 page, which
        # only slows each page's "load" event down.
        ctx.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        made.append(ctx)
        return ctx

    yield _new
    for ctx in made:
        ctx.close()


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def signed_in(context, live_server):
    """Sign a user in without the login form (journey (a) uses the form): puts a session cookie for
    ``user`` into a browser context (the test's own by default) and returns a new page of it."""

    def _sign_in(user, ctx=None):
        from django.conf import settings
        from django.test import Client

        ctx = ctx or context
        client = Client()
        client.force_login(user)
        ctx.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
        return ctx.new_page()

    return _sign_in


__all__ = ["PASSWORD", "registry", "users", "workflow"]
