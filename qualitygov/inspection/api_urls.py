"""API endpoints of the spot-check module, mounted at /api/v1/inspection/."""

app_name = "inspection-api"

urlpatterns: list = []
