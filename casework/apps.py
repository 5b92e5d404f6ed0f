from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("ケース管理")

    def ready(self):
        from django.db.models.signals import post_migrate

        from casework import checks, disclosure, signals  # noqa: F401 - handlers, checks
        from casework.accounts import sessions  # noqa: F401 - signal handlers
        from casework.audit import roles as audit_roles
        from casework.selectors import home_panels
        from casework.services.cases import case_team_end_lapsed
        from core.panels import register_home_panel

        register_home_panel(home_panels)

        post_migrate.connect(audit_roles.grant_after_migrate, sender=self)
        # casework's own reaction to a withdrawn consent comes first: the team grants resting on it end.
        if case_team_end_lapsed not in disclosure.CONSENT_LAPSED_HANDLERS:
            disclosure.CONSENT_LAPSED_HANDLERS.insert(0, case_team_end_lapsed)
