"""Back-office pages of the complaints module: cases (placeholder until its area is built)."""

urlpatterns: list = []
