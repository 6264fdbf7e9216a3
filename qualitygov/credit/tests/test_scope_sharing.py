"""Roles × endpoints of the credit sharing area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
