"""Roles × endpoints of the credit query area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
