from qualitygov.complaints import urls_public_intake, urls_public_statistics

app_name = "complaints-public"

# The public channel: the submission form, following a case, the monthly summaries.
urlpatterns = [*urls_public_intake.urlpatterns, *urls_public_statistics.urlpatterns]
