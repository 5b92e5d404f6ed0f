"""Small presentation helpers shared by every app's screens."""

from dataclasses import dataclass, field


@dataclass
class Panel:
    """A box on a role's home page: a title, the template that draws it and its context."""

    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


# Higher apps (referrals, meetings) add boxes to the case page without casework importing them.
_case_panel_providers: list = []


def register_case_panel(func):
    """Register func(request, case, viewer) -> Panel | list[Panel] | None for the case detail page."""
    if func not in _case_panel_providers:
        _case_panel_providers.append(func)
    return func


def case_panels(request, case, viewer) -> list[Panel]:
    """Return the registered apps' panels for one case, in order."""
    panels: list[Panel] = []
    for provider in _case_panel_providers:
        result = provider(request, case, viewer)
        if result is None:
            continue
        panels.extend(result if isinstance(result, list | tuple) else [result])
    return sorted(panels, key=lambda panel: panel.order)
