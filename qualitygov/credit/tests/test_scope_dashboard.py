"""Roles × endpoints of the credit dashboard area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
