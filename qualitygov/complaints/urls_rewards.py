"""Back-office pages of the complaints module: tip-off rewards (``views_rewards``): ``reward_list``,
``reward_eligible``, ``reward_propose`` (args [case_pk]), ``reward_detail``, ``reward_history``."""

from django.urls import path

from qualitygov.complaints import views_rewards as views
from qualitygov.core.views import ObjectHistoryView

urlpatterns = [
    path("rewards/", views.RewardListView.as_view(queryset=views.REWARD_QS, filterset_class=views.RewardFilterSet,
                                                  table_class=views.RewardTable, export_columns=views.REWARD_EXPORT),
         name="reward_list"),
    path("rewards/eligible/", views.RewardEligibleView.as_view(), name="reward_eligible"),
    path("rewards/propose/<int:case_pk>/", views.RewardProposeView.as_view(), name="reward_propose"),
    path("rewards/<int:pk>/", views.RewardDetailView.as_view(queryset=views.REWARD_QS), name="reward_detail"),
    path("rewards/<int:pk>/history/", ObjectHistoryView.as_view(queryset=views.REWARD_QS), name="reward_history"),
]
