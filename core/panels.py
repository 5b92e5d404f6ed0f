"""Small presentation helpers shared by every app's screens."""

from dataclasses import dataclass, field


@dataclass
class Panel:
    """A box on a role's home page: a title, the template that draws it and its context."""

    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


class PanelRegistry:
    """Apps register panel providers from their AppConfig.ready; a page asks the registry, never the apps."""

    def __init__(self):
        self._providers: list = []

    def register(self, func):
        """Register func(*args) -> Panel | list[Panel] | None; registering twice keeps one."""
        if func not in self._providers:
            self._providers.append(func)
        return func

    def panels(self, *args) -> list[Panel]:
        """Return every provider's panels for these arguments, in order."""
        panels: list[Panel] = []
        for provider in self._providers:
            result = provider(*args)
            if result is None:
                continue
            panels.extend(result if isinstance(result, list | tuple) else [result])
        return sorted(panels, key=lambda panel: panel.order)


# The home page: func(request, viewer). The case page: func(request, case, viewer) (higher apps add boxes
# to it without casework importing them).
HOME_PANELS = PanelRegistry()
CASE_PANELS = PanelRegistry()
register_home_panel = HOME_PANELS.register
register_case_panel = CASE_PANELS.register


def home_panels(request, viewer) -> list[Panel]:
    """Return the registered apps' panels for the viewer's home page, in order."""
    return HOME_PANELS.panels(request, viewer)


def case_panels(request, case, viewer) -> list[Panel]:
    """Return the registered apps' panels for one case, in order."""
    return CASE_PANELS.panels(request, case, viewer)
