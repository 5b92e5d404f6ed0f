"""Jobs of the places app (django-tasks): fetch inputs, call the import, nothing else."""

from __future__ import annotations

from django_tasks import task

from places import imports


@task()
def run_import_job(job_id: str) -> None:
    """Run an import job's current phase (the dry run, or the atomic application) on a worker."""
    imports.execute_job(job_id)
