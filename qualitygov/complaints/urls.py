from qualitygov.complaints import urls_cases, urls_intake, urls_rewards, urls_similar, urls_statistics

app_name = "complaints"

# Each area of the complaints module keeps its back-office pages in its own URL module.
urlpatterns = [*urls_intake.urlpatterns, *urls_cases.urlpatterns, *urls_similar.urlpatterns,
               *urls_rewards.urlpatterns, *urls_statistics.urlpatterns]
