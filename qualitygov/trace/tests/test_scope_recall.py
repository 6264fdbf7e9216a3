"""Roles × endpoints of the trace recall area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
