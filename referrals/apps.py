from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("つなぎ・紹介")

    def ready(self):
        from casework import disclosure
        from casework.ui import register_case_panel
        from places.selectors import PARTICIPANT_ACCESS
        from referrals.access import place_participants
        from referrals.selectors import case_panel
        from referrals.services import referrals_consent_lapsed

        register_case_panel(case_panel)
        # Withdrawing or narrowing a consent withdraws the referrals resting on it, in the same transaction.
        if referrals_consent_lapsed not in disclosure.CONSENT_LAPSED_HANDLERS:
            disclosure.CONSENT_LAPSED_HANDLERS.append(referrals_consent_lapsed)
        # A place's attendance screen lists a participant only while the referral card's basis holds.
        if place_participants not in PARTICIPANT_ACCESS:
            PARTICIPANT_ACCESS.append(place_participants)
