"""Roles × endpoints of the trace capture area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
