from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("ケース管理")

    def ready(self):
        from casework import disclosure, services, sessions, signals  # noqa: F401 - connects session and group handlers

        # casework's own reaction to a withdrawn consent comes first: the team grants resting on it end.
        if services.case_team_end_lapsed not in disclosure.CONSENT_LAPSED_HANDLERS:
            disclosure.CONSENT_LAPSED_HANDLERS.insert(0, services.case_team_end_lapsed)
