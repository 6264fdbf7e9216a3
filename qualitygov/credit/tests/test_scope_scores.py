"""Roles × endpoints of the credit scores area (placeholder until the area is built)."""

API_EXPECTATIONS: dict[str, str] = {}
