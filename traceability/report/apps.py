from django.apps import AppConfig


class ReportConfig(AppConfig):
    """The risk management report (ISO 14971 §8 overall residual risk, §9 review). Sits on
    `traceability` so that it can add its release-gate check and dossier section through their
    registries (`traceability.gate`, `traceability.dossier.extensions`) and make the report a
    signable record (`riskbench.signatures.register_signable`)."""

    name = "traceability.report"
    label = "report"
    verbose_name = "Risk management report"

    def ready(self):
        from traceability.report import registration

        registration.register_all()
