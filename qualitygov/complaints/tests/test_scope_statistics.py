"""Roles × endpoints of the complaints API: statistics."""

API_EXPECTATIONS: dict[str, str] = {}
