"""Roles × endpoints of the trace query area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
