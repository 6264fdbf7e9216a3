"""API of the complaints module: cases (placeholder until its area is built)."""

urlpatterns: list = []
public_urlpatterns: list = []
