from django.apps import AppConfig


class DossierConfig(AppConfig):
    name = "traceability.dossier"
    label = "dossier"
