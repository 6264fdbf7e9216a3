"""Back-office pages of the complaints module: rewards (placeholder until its area is built)."""

urlpatterns: list = []
