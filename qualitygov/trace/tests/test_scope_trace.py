"""Roles × endpoints of the trace trace area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
