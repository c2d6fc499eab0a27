from django.apps import AppConfig


class BaselinesConfig(AppConfig):
    name = "traceability.baselines"
    label = "baselines"
