"""Roles × endpoints of the complaints API: intake."""

API_EXPECTATIONS: dict[str, str] = {}
