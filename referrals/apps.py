from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("つなぎ・紹介")

    def ready(self):
        from casework.ui import register_case_panel
        from referrals.selectors import case_panel

        register_case_panel(case_panel)
