"""API endpoints of the spot-check module, mounted at /api/v1/inspection/."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from qualitygov.inspection import api, api_acceptance, api_public

app_name = "inspection-api"

router = SimpleRouter()
router.register("plans", api.PlanViewSet, basename="plan")
router.register("quotas", api.QuotaViewSet, basename="quota")
router.register("draws", api.DrawViewSet, basename="draw")
router.register("tasks", api.TaskViewSet, basename="task")
router.register("samples", api.SampleViewSet, basename="sample")
router.register("objections", api.ObjectionViewSet, basename="objection")
router.register("rectifications", api.RectificationViewSet, basename="rectification")
router.register("labs", api.LabViewSet, basename="lab")
router.register("rules", api.RuleViewSet, basename="rule")
router.register("public/results", api_public.PublicResultViewSet, basename="public-result")
router.register("public/draws", api_public.PublicDrawViewSet, basename="public-draw")

urlpatterns: list = [
    # With or without the trailing slash: the issue names it without, the rest of the API ends in one.
    re_path(r"^sampling-plan/?$", api_acceptance.sampling_plan_view, name="sampling-plan"),
    path("statistics/", api.StatisticsView.as_view(), name="statistics"),
    *router.urls,
]
