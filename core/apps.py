from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Domain-free helpers every app uses: Japanese text and dates, spreadsheets, panels, forms, the fail-closed guard."""

    name = "core"
    verbose_name = _("共通部品")

    def ready(self):
        from django.contrib.auth import get_user_model

        from core.japanese import staff_name

        # Django's get_full_name is "first last" (美咲 佐藤). Every screen, list, export and printed form
        # that names a member of staff goes through it, so it answers with the one Japanese-order helper.
        get_user_model().get_full_name = staff_name
