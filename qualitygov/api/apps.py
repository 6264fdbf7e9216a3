from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "qualitygov.api"
    label = "api"
    verbose_name = "API"
