from django.apps import AppConfig


class RiskbenchConfig(AppConfig):
    name = "riskbench"
    verbose_name = "RiskBench core (roles, signatures, audit)"

    def ready(self):
        # Signal receivers of the audit chain (every history row), the access log (logins) and
        # the cache table (created by migrate).
        from riskbench import accesslog, audit, cache  # noqa: F401
