"""Public pages of the complaints module: statistics (placeholder until its area is built)."""

urlpatterns: list = []
