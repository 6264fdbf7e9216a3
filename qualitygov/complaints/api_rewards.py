"""API of the complaints module: rewards (placeholder until its area is built)."""

urlpatterns: list = []
public_urlpatterns: list = []
