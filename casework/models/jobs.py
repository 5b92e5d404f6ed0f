"""The job workers' heartbeats: how the queue tells a worker that died from one that is busy."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One row per running job worker (`manage.py run_worker`), touched every few seconds.

    A job whose worker's heartbeat went stale is recovered by the other workers: retried, or failed
    with a Japanese message once its attempts are used up (casework.jobs.recover_abandoned).
    """

    worker_id = models.CharField(_("ワーカーID"), max_length=64, primary_key=True)
    hostname = models.CharField(_("ホスト名"), max_length=255)
    pid = models.PositiveIntegerField(_("プロセスID"))
    started_at = models.DateTimeField(_("開始日時"))
    beat_at = models.DateTimeField(_("最終応答日時"), db_index=True)
    stopped_at = models.DateTimeField(_("停止日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("ジョブワーカー")
        verbose_name_plural = _("ジョブワーカー")

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid} ({self.worker_id})"


class ScheduledRun(models.Model):
    """One daily job queued for one day: what makes `run_scheduled` idempotent, and what the operator reads."""

    name = models.CharField(_("ジョブ名"), max_length=60)
    day = models.DateField(_("対象日"))
    task_id = models.CharField(_("タスクID"), max_length=64, blank=True)
    enqueued_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    ok = models.BooleanField(_("成功"), null=True)
    outcome = models.CharField(_("結果"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("定期処理の実行")
        verbose_name_plural = _("定期処理の実行")
        constraints = [models.UniqueConstraint(fields=["name", "day"], name="scheduled_run_once_per_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.day}"
