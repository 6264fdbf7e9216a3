"""Public pages of the complaints module: the submission form, confirmation, follow-up and rating."""

from django.urls import path

from qualitygov.complaints import views_public_intake as views

urlpatterns = [
    path("", views.SubmitView.as_view(), name="intake-form"),
    path("respondents/", views.RespondentSearchView.as_view(), name="intake-respondent-search"),
    path("submitted/<str:number>/", views.DoneView.as_view(), name="intake-done"),
    path("follow-up/", views.FollowUpView.as_view(), name="intake-follow-up"),
    path("follow-up/<str:number>/", views.StatusView.as_view(), name="intake-status"),
    path("follow-up/<str:number>/rate/<str:case_number>/", views.RateView.as_view(), name="intake-rate"),
]
