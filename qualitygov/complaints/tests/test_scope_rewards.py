"""Roles × endpoints of the complaints API: rewards."""

API_EXPECTATIONS: dict[str, str] = {}
