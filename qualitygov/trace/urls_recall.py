"""Placeholder until this area is built (issue 5)."""

urlpatterns = []
