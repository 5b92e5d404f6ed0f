from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "places"
    verbose_name = _("居場所")

    def ready(self):
        from casework.jobs import register_abandoned_handler
        from core.panels import register_home_panel
        from places.imports import fail_abandoned_job
        from places.selectors import home_panels

        register_home_panel(home_panels)
        # A large import whose worker died is failed on its job screen, never left 「確認中」.
        register_abandoned_handler("places.tasks.run_import_job", fail_abandoned_job)
