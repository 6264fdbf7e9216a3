"""Placeholder until this area is built (issue 5)."""

app_name = "public-trace"
urlpatterns = []
