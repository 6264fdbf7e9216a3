"""Back-office pages of the complaints module: intake (placeholder until its area is built)."""

urlpatterns: list = []
