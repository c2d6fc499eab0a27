from django.apps import AppConfig


class RiskbenchConfig(AppConfig):
    name = "riskbench"
    verbose_name = "RiskBench core (roles, signatures, audit)"
