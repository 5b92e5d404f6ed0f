"""Fixtures for the meetings tests: a layered meeting with a consented case on its agenda."""

import pytest

from tests.factories import give_layered_consent, make_case, make_meeting


@pytest.fixture
def case_a(personas):
    """A case of window A in planning with a proposed plan, every subject consenting to 重層的支援会議."""
    from casework import services as cw

    case = make_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a, state="planning")
    give_layered_consent(case, by=personas.caseworker_a)
    cw.plan_create(case=case, goals="週1回の訪問で生活を整える", by=personas.caseworker_a)
    return case


@pytest.fixture
def layered(personas, case_a):
    """A 重層的支援会議 chaired by the municipality with window A's caseworker and the coordinator."""
    from meetings import services as ms

    meeting = make_meeting(
        chair=personas.chair,
        secretary=personas.coordinator,
        participants=[personas.caseworker_a],
        kind="layered_meeting",
    )
    ms.agenda_item_add(meeting=meeting, case=case_a, purpose="plan_agreement", by=personas.chair)
    meeting.refresh_from_db()
    return meeting
