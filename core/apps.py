from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Domain-free helpers every app uses: Japanese text and dates, spreadsheets, panels, forms, the fail-closed guard."""

    name = "core"
    verbose_name = _("共通部品")
