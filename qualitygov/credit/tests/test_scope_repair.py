"""Roles × endpoints of the credit repair area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
