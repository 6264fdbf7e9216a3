"""API endpoints of the spot-check module, mounted at /api/v1/inspection/."""

from django.urls import re_path

from qualitygov.inspection import api_acceptance

app_name = "inspection-api"

urlpatterns: list = [
    # With or without the trailing slash: the issue names it without, the rest of the API ends in one.
    re_path(r"^sampling-plan/?$", api_acceptance.sampling_plan_view, name="sampling-plan"),
]
