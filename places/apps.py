from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "places"
    verbose_name = _("居場所")

    def ready(self):
        from core.panels import register_home_panel
        from places.selectors import home_panels

        register_home_panel(home_panels)
