"""Small presentation helpers shared by every app's screens."""

from dataclasses import dataclass, field


@dataclass
class Panel:
    """A box on a role's home page: a title, the template that draws it and its context."""

    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50
