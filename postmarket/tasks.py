"""Background vulnerability checks (django-tasks: immediate backend in development and tests,
database backend with `manage.py db_worker` in production — as dossier exports)."""

from django_tasks import task

from postmarket import imports


@task()
def run_vulnerability_import(import_id: int) -> str:
    return imports.import_run(import_id).status
