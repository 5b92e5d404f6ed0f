"""Who attends a place, as the app that sends them says: places keeps only opaque participant refs.

An attendance row names its participant by a ref such as "referral:12" and a label copied when it was
recorded. Whether the place may still see that person, and record their attendance, is decided by the
app that owns the ref (referrals: the card's state and its place access period), never by places.
That app registers a source for its prefix in its AppConfig.ready (places must not import it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

from core.japanese import format_wareki


@dataclass(frozen=True)
class Participant:
    """One participant as the place may know them now."""

    ref: str
    # What the place may call them now ("" when it may no longer see them).
    label: str = ""
    person_ids: tuple[int, ...] = ()
    # The place may still see who this is (label and history).
    visible: bool = False
    # Attendance may be recorded now; refusal says why not (Japanese).
    recordable: bool = False
    refusal: str = ""
    # The disclosure basis the place sees them on (AccessLog.Basis value and its reference), for the log row.
    basis: str = ""
    basis_ref: str = ""
    # The first day attendance may be recorded for (a referral: the day it was sent), or None.
    since: date | None = None


# source(place, refs): the participants at the place the source owns; refs None: every one of them,
# else only those refs (unknown refs are left out).
Source = Callable[[object, Collection[str] | None], list[Participant]]
_sources: dict[str, Source] = {}


def register_participant_source(prefix: str, source: Source) -> None:
    """Let an upper app answer for the participant refs "<prefix>:..." (call from AppConfig.ready)."""
    _sources[prefix] = source


def _prefix(ref: str) -> str:
    return ref.split(":", 1)[0] if ":" in ref else ""


def is_managed(ref: str) -> bool:
    """Say whether an app answers for this ref (then a ref it does not return is not to be shown)."""
    return _prefix(ref) in _sources


def participants_at(place, refs: Collection[str] | None = None) -> dict[str, Participant]:
    """Return {ref: Participant} from every source for the place (only the given refs, if any)."""
    found: dict[str, Participant] = {}
    for prefix, source in _sources.items():
        wanted = None if refs is None else [r for r in refs if _prefix(r) == prefix]
        if wanted is not None and not wanted:
            continue
        for participant in source(place, wanted):
            found[participant.ref] = participant
    return found


def recording_refusal(place, ref: str, on: date | None = None) -> str:
    """Return why attendance for ref (on that day, when given) cannot be recorded at the place now, or ""."""
    if not is_managed(ref):
        return ""
    participant = participants_at(place, [ref]).get(ref)
    if participant is None:
        return "この参加者の出欠は記録できません。一覧から参加者を選んでください。"
    if not participant.recordable:
        return participant.refusal or "この参加者の出欠は記録できません。"
    if on is not None and participant.since is not None and on < participant.since:
        return f"紹介が送られた日（{format_wareki(participant.since)}）より前の出欠は記録できません。日付を確かめてください。"
    return ""
