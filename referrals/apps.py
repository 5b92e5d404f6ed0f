from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("つなぎ・紹介")

    def ready(self):
        from casework.disclosure_package import PACKAGE_SECTIONS
        from referrals.selectors import disclosure_items

        # The 開示請求 package lists this app's records about the person (casework never imports it).
        if disclosure_items not in PACKAGE_SECTIONS:
            PACKAGE_SECTIONS.append(disclosure_items)
        from casework import disclosure
        from casework.calendar import register_dated_source
        from casework.closure import register_closure_items
        from casework.notifications.selectors import register_target_check
        from casework.paper.drawings import register_ecomap_source
        from core.panels import register_case_panel, register_home_panel
        from places.participants import register_participant_source
        from referrals.access import notification_target_visible
        from referrals.selectors import case_panel, dated_items, ecomap_places, home_panels, place_participants
        from referrals.services import case_closure_referrals, referrals_consent_lapsed

        register_target_check("referral", notification_target_visible)
        register_dated_source(dated_items)
        from casework.scheduling import register_daily_job
        from referrals.daily import responses_overdue

        register_daily_job("referral_responses_overdue", "回答期限を過ぎた紹介", responses_overdue)
        register_case_panel(case_panel)
        register_home_panel(home_panels)
        # The case's ecomap draws the places its persons go to through 参加支援.
        register_ecomap_source(ecomap_places)
        # Closing a case lists its open referrals and lets the lead withdraw or complete them.
        register_closure_items(case_closure_referrals)
        # 人事異動: the hand-over screen (casework) moves the open referrals a leaving worker sent.
        from casework.services.handover import HandoverSource, register_handover_source
        from referrals.services import handover_items, handover_reassign

        register_handover_source(
            HandoverSource("referral", _("紹介（紹介元の担当者）"), handover_items, handover_reassign, order=20)
        )
        # The places attendance screen asks referrals who its "referral:N" participants are (while the card's basis holds).
        register_participant_source("referral", place_participants)
        # Disposing of a case (retention) deletes its referrals; their attendance at places goes with them.
        from casework.retention import register_disposal_hook
        from referrals.services import referrals_disposed

        register_disposal_hook(referrals_disposed)
        # Withdrawing or narrowing a consent withdraws the referrals resting on it, in the same transaction.
        if referrals_consent_lapsed not in disclosure.CONSENT_LAPSED_HANDLERS:
            disclosure.CONSENT_LAPSED_HANDLERS.append(referrals_consent_lapsed)
