"""A job for the queue benchmark (bench/notifications_queue.py): does nothing but write its own result."""

from django_tasks import task


@task()
def noop(n: int) -> int:
    return n
