"""Roles × endpoints of the trace public area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
