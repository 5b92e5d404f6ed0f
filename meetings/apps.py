from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("会議")

    def ready(self):
        from casework.ui import register_case_panel
        from meetings.selectors import case_panel

        # The case page shows the case's meeting history without casework importing meetings.
        register_case_panel(case_panel)
