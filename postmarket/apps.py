from django.apps import AppConfig


class PostmarketConfig(AppConfig):
    """After release (IEC 62304 §9, ISO 14971 §10). Sits above `traceability`: it contributes
    its release-gate checks, dossier sections and demo data through their registries, so no app
    below imports it."""

    name = "postmarket"
    verbose_name = "Post-market: problems, vulnerabilities, field information"

    def ready(self):
        from postmarket import registration

        registration.register_all()
