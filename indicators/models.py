"""The stored yearly figures: monthly counts per organization and figure, refreshed by a job (not live)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# FigureCount.fiscal_year of the figures that have no 年度 (places active or accepting now).
CURRENT = 0
# FigureCount.month of a 年度 total: persons (実人数) counted once a year cannot be summed from the months.
YEAR = 0


class FigureCount(models.Model):
    """One figure's count for one month (or the whole 年度) of the municipality or one organization's scope.

    The figure key names the domain, route, tag, kind or organization it counts (casework.domain.elderly,
    casework.contacts.org12); only counts above zero are stored. Rows are replaced as a whole by
    `indicators.aggregates.aggregates_refresh`; the dashboard and the 実績報告 read them.
    """

    fiscal_year = models.SmallIntegerField(_("年度"))
    # None: the municipality; otherwise that organization's scope (casework.indicators.Scope).
    organization = models.ForeignKey(
        "casework.Organization", on_delete=models.CASCADE, null=True, related_name="+", verbose_name=_("機関")
    )
    figure = models.CharField(_("項目"), max_length=80)
    month = models.SmallIntegerField(_("月"))  # 1-12, or YEAR
    value = models.PositiveIntegerField(_("件数"))

    class Meta:
        verbose_name = _("集計値")
        verbose_name_plural = _("集計値")
        # Serves the dashboard's one read: every figure of a 年度 and scope.
        indexes = [models.Index(fields=["fiscal_year", "organization"], name="figurecount_year_scope")]
        constraints = [
            models.CheckConstraint(condition=models.Q(month__gte=0, month__lte=12), name="figurecount_month_range"),
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year} {self.organization_id or 'all'} {self.figure} {self.month}: {self.value}"


class AggregateRun(models.Model):
    """One refresh of the stored figures: requested (on demand or by the daily job), then finished or failed."""

    requested_at = models.DateTimeField(_("依頼日時"), auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(_("集計日時"), null=True, blank=True)
    ok = models.BooleanField(_("成功"), default=False)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    seconds = models.FloatField(_("所要秒数"), null=True, blank=True)
    # The median days to a referral's first answer per "年度:organization id or all" (not a count).
    medians = models.JSONField(_("回答までの日数（中央値）"), default=dict, blank=True)
    outcome = models.CharField(_("結果"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("集計の実行")
        verbose_name_plural = _("集計の実行")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M} {self.outcome}"
