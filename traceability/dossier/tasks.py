"""Background generation of dossiers (django-tasks: the immediate backend in development and
tests, the database backend with `manage.py db_worker` in production — DESIGN.md §6).

A large product takes tens of seconds to lay out; the request that asks for it returns at once
and the page polls the export's progress.
"""

from django_tasks import task

from traceability.dossier import services


@task()
def generate_dossier(export_id: int) -> str:
    """Generate the requested export; returns its SHA-256 (kept by the task backend too)."""
    export = services.export_generate(export_id)
    return export.sha256
