from django.apps import AppConfig


class RiskbenchConfig(AppConfig):
    name = "riskbench"
    verbose_name = "RiskBench core (roles, signatures, audit)"

    def ready(self):
        # Signal receivers of the audit chain (every history row) and the access log (logins).
        from riskbench import accesslog, audit  # noqa: F401
