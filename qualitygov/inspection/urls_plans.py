"""Pages of spot-check planning: plans and quotas, draws, tasks, the rule catalogue and the labs.

Included by ``inspection/urls.py`` inside the ``inspection`` namespace; names follow the module's
``<model_name>_<page>`` convention (``inspectionplan_detail``, ``randomdraw_rerun``…).
"""

from django.urls import path

from qualitygov.core.views import ObjectHistoryView
from qualitygov.inspection import views_plans as views

plan_history = ObjectHistoryView.as_view(queryset=views.PLAN_QS)

urlpatterns = [
    # Plans and their quotas.
    path("plans/", views.PlanListView.as_view(), name="inspectionplan_list"),
    path("plans/add/", views.PlanCreateView.as_view(), name="inspectionplan_add"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="inspectionplan_detail"),
    path("plans/<int:pk>/edit/", views.PlanEditView.as_view(), name="inspectionplan_edit"),
    path("plans/<int:pk>/history/", plan_history, name="inspectionplan_history"),
    path("plans/<int:pk>/approve/", views.PlanApproveView.as_view(), name="inspectionplan_approve"),
    path("plans/<int:pk>/close/", views.PlanCloseView.as_view(), name="inspectionplan_close"),
    path("plans/<int:pk>/quotas/add/", views.QuotaAddView.as_view(), name="planquota_add"),
    path("quotas/<int:pk>/draw/", views.QuotaDrawView.as_view(), name="planquota_draw"),
    path("quotas/<int:pk>/draw-inspectors/", views.QuotaInspectorDrawView.as_view(),
         name="planquota_draw_inspectors"),
    # Random-draw records.
    path("draws/", views.DrawListView.as_view(), name="randomdraw_list"),
    path("draws/<int:pk>/", views.DrawDetailView.as_view(), name="randomdraw_detail"),
    path("draws/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.DRAW_QS), name="randomdraw_history"),
    path("draws/<int:pk>/rerun/", views.DrawRerunView.as_view(), name="randomdraw_rerun"),
    path("draws/<int:pk>/publish/", views.DrawPublishView.as_view(), name="randomdraw_publish"),
    path("draws/<int:pk>/json/", views.DrawJsonView.as_view(), name="randomdraw_json"),
    # Tasks.
    path("tasks/", views.TaskListView.as_view(), name="inspectiontask_list"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="inspectiontask_detail"),
    path("tasks/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.TASK_QS), name="inspectiontask_history"),
    path("tasks/<int:pk>/draw-inspectors/", views.TaskInspectorDrawView.as_view(),
         name="inspectiontask_draw_inspectors"),
    # Catalogue of implementation rules (public reference) and testing labs.
    path("rules/", views.RuleListView.as_view(), name="implementationrule_list"),
    path("rules/<int:pk>/", views.RuleDetailView.as_view(), name="implementationrule_detail"),
    path("rules/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.RULE_QS),
         name="implementationrule_history"),
    path("labs/", views.LabListView.as_view(), name="testinglab_list"),
    path("labs/<int:pk>/", views.LabDetailView.as_view(), name="testinglab_detail"),
    path("labs/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.LAB_QS), name="testinglab_history"),
]
