from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    """The yearly figures, the dashboard and 実績報告, read from every app's figures."""

    name = "indicators"
    verbose_name = _("実績・指標")

    def ready(self) -> None:
        from casework.scheduling import register_daily_job
        from indicators.services import daily_refresh

        register_daily_job("indicator_aggregates", "実績・指標の集計", daily_refresh)
