"""What is still open on a case when its lead closes or suspends it, and what the lead chose to do with each.

Closing a case used to leave its open referrals, action items, approved plan and review date exactly as
they were, unmentioned. Each app now lists its own open things for the closing form (referrals and
meetings register a provider from their AppConfig.ready; casework never imports them), and the lead
picks what happens to each; the choices are applied in the same transaction as the closure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class OpenThing:
    """One open thing on the case: what it is, the choices offered, and how a choice is applied."""

    key: str
    kind_label: str
    text: str
    # (value, label); the lead must pick one (nothing is preselected).
    choices: list[tuple[str, str]]
    # apply(choice, reason, by) -> a short Japanese sentence saying what happened ("" when nothing did).
    apply: Callable[[str, str, object], str]
    # Choices whose effect needs the closure's reason (withdrawing a referral tells the receiver why).
    uses_reason: set[str] = field(default_factory=set)


# provider(case, by) -> list[OpenThing]
_PROVIDERS: list[Callable] = []


def register_closure_items(provider: Callable) -> Callable:
    """Let an app list its open things on a case being closed (call from AppConfig.ready)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def open_things(case, by) -> list[OpenThing]:
    """Return every app's open things on the case, as the acting user may deal with them."""
    things: list[OpenThing] = []
    for provider in _PROVIDERS:
        things.extend(provider(case, by) or [])
    return things
