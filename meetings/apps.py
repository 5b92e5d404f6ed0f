from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("会議")

    def ready(self):
        from casework.disclosure_package import PACKAGE_SECTIONS
        from meetings.selectors import disclosure_items

        # The 開示請求 package lists this app's records about the person (casework never imports it).
        if disclosure_items not in PACKAGE_SECTIONS:
            PACKAGE_SECTIONS.append(disclosure_items)
        from casework import disclosure
        from casework.calendar import register_dated_source
        from casework.closure import register_closure_items

        # The case page shows the case's meeting history without casework importing meetings.
        from casework.notifications.selectors import register_target_check
        from core.panels import register_case_panel, register_home_panel
        from meetings.access import (
            decision_basis,
            meeting_notification_visible,
            notification_target_visible,
            support_meeting_share,
        )
        from meetings.selectors import case_panel, dated_items, home_panels, proposal_panel

        register_target_check("action_item", notification_target_visible)
        register_target_check("meeting", meeting_notification_visible)
        register_dated_source(dated_items)
        from casework.scheduling import register_daily_job
        from meetings.daily import actions_due

        register_daily_job("action_items_due", "期限の近い・過ぎた対応事項", actions_due)
        register_case_panel(case_panel)
        register_case_panel(proposal_panel)
        register_home_panel(home_panels)
        # Closing a case lists its open action items and lets the lead decide what happens to them.
        from meetings.services import case_closure_actions

        register_closure_items(case_closure_actions)
        # 人事異動: the hand-over screen (casework) moves a leaving worker's action items and meeting seats.
        from casework.services.handover import HandoverSource, register_handover_source
        from meetings.services import (
            handover_action_items,
            handover_action_reassign,
            handover_meeting_reassign,
            handover_meeting_seats,
        )

        register_handover_source(
            HandoverSource("action", _("対応事項（担当者）"), handover_action_items, handover_action_reassign, order=30)
        )
        register_handover_source(
            HandoverSource(
                "meeting", _("会議（議長・書記・参加者）"), handover_meeting_seats, handover_meeting_reassign, order=40
            )
        )
        # The disclosure module asks meetings about recorded decisions (casework never imports meetings).
        if decision_basis not in disclosure.MEETING_DECISION_BASES:
            disclosure.MEETING_DECISION_BASES.append(decision_basis)
        if support_meeting_share not in disclosure.SUPPORT_MEETING_DECISIONS:
            disclosure.SUPPORT_MEETING_DECISIONS.append(support_meeting_share)
