"""Back-office pages of the complaints module: similar (placeholder until its area is built)."""

urlpatterns: list = []
