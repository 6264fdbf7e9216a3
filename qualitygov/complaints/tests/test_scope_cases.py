"""Roles × endpoints of the complaints API: cases."""

API_EXPECTATIONS: dict[str, str] = {}
