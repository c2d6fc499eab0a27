from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "traceability.integrations"
    label = "integrations"
