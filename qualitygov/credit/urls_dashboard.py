"""Placeholder until this area is built (issue 4)."""

urlpatterns = []
