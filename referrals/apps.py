from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("つなぎ・紹介")

    def ready(self):
        from casework.ui import register_case_panel
        from places.participants import register_participant_source
        from referrals.selectors import case_panel, place_participants

        register_case_panel(case_panel)
        # The places attendance screen asks referrals who its "referral:N" participants are.
        register_participant_source("referral", place_participants)
