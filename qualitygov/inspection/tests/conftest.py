"""Fixtures shared by the spot-check tests (defined in fixtures.py)."""

from qualitygov.inspection.tests.fixtures import workflow  # noqa: F401
