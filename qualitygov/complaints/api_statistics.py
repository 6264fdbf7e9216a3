"""API of the complaints module: statistics (placeholder until its area is built)."""

urlpatterns: list = []
public_urlpatterns: list = []
