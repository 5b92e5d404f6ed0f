"""The legal gates: consent for 重層的支援会議, the 守秘義務 pledge for 支援会議."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessLog
from casework.services.consent import consent_withdraw
from meetings import services as ms
from meetings.services import agenda_gate
from tests.factories import give_layered_consent, make_meeting, make_meeting_case, put_on_agenda

pytestmark = pytest.mark.django_db


def test_a_layered_meeting_refuses_a_case_without_consent_and_says_why(personas):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    meeting = make_meeting(chair=personas.chair)
    with pytest.raises(ValidationError) as exc:
        put_on_agenda(meeting=meeting, case=case, purpose="progress_review", by=personas.chair)
    text = " ".join(exc.value.messages)
    assert "本人同意が確認できません" in text
    assert "同意の記録がありません" in text
    assert not meeting.items.exists()


def test_a_layered_meeting_takes_a_consented_case(personas, case_a):
    meeting = make_meeting(chair=personas.chair)
    item = put_on_agenda(meeting=meeting, case=case_a, purpose="plan_agreement", by=personas.chair)
    assert item.consent_ids and item.summary == case_a.summary


def test_a_withdrawn_consent_is_refused(personas, case_a):
    consent = case_a.person.consents.get()
    consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a)
    meeting = make_meeting(chair=personas.chair)
    with pytest.raises(ValidationError) as exc:
        put_on_agenda(meeting=meeting, case=case_a, purpose="plan_agreement", by=personas.chair)
    assert "撤回" in " ".join(exc.value.messages)


def test_it_warns_when_a_consent_expires_before_the_meeting(personas):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    give_layered_consent(case, by=personas.caseworker_a, valid_until=timezone.localdate() + timedelta(days=1))
    meeting = make_meeting(chair=personas.chair, starts_at=timezone.now() + timedelta(days=10))
    gate = agenda_gate(meeting=meeting, case=case)
    assert not gate.allowed
    assert any("有効期限" in w for w in gate.warnings)
    with pytest.raises(ValidationError) as exc:
        put_on_agenda(meeting=meeting, case=case, purpose="progress_review", by=personas.chair)
    assert "会議日" in " ".join(exc.value.messages)


def test_a_support_meeting_takes_a_case_without_consent(personas):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    meeting = make_meeting(chair=personas.chair, kind="support_meeting")
    item = put_on_agenda(meeting=meeting, case=case, purpose="information_sharing", by=personas.chair)
    assert item.consent_ids == []


def test_only_a_municipality_convenes_a_support_meeting(personas):
    with pytest.raises(ValidationError):
        make_meeting(chair=personas.coordinator, kind="support_meeting")


def test_a_support_meeting_participant_without_a_pledge_gets_the_pledge_page(personas, login):
    case = make_meeting_case(lead_organization=personas.window_a, lead_worker=personas.caseworker_a)
    meeting = make_meeting(chair=personas.chair, kind="support_meeting")
    put_on_agenda(meeting=meeting, case=case, purpose="information_sharing", by=personas.chair)
    ms.meeting_participant_add(meeting=meeting, user=personas.caseworker_b, by=personas.chair)
    client = login(personas.caseworker_b)
    item = meeting.items.get()
    for url in [
        reverse("meetings:detail", args=[meeting.pk]),
        reverse("meetings:live", args=[meeting.pk]),
        reverse("meetings:item", args=[meeting.pk, item.pk]),
        reverse("meetings:minutes", args=[meeting.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("meetings:pledge", args=[meeting.pk])
    page = client.get(reverse("meetings:pledge", args=[meeting.pk]))
    assert "守秘義務" in page.content.decode() and case.number not in page.content.decode()
    # Without ticking the box nothing is recorded.
    client.post(reverse("meetings:pledge", args=[meeting.pk]), {})
    assert not meeting.participants.get(user=personas.caseworker_b).has_pledge
    client.post(reverse("meetings:pledge", args=[meeting.pk]), {"agree": "yes"})
    assert meeting.participants.get(user=personas.caseworker_b).pledge_signed_on == date.today()
    response = client.get(reverse("meetings:item", args=[meeting.pk, item.pk]))
    assert response.status_code == 200 and case.number in response.content.decode()
    row = AccessLog.objects.filter(actor=personas.caseworker_b, object_type="agendaitem").latest("id")
    assert row.basis == AccessLog.Basis.SUPPORT_MEETING and row.basis_ref == str(meeting.pk)
    assert case.person.pk in row.person_ids


def test_the_chair_records_a_paper_pledge_for_a_participant(personas, login):
    meeting = make_meeting(
        chair=personas.chair, kind="support_meeting", participants=[personas.caseworker_b], pledged=False
    )
    participant = meeting.participants.get(user=personas.caseworker_b)
    ms.pledge_record(participant=ms_participant_self(meeting, personas.chair), by=personas.chair)
    login(personas.chair).post(
        reverse("meetings:participants", args=[meeting.pk]), {"action": "pledge", "participant": participant.pk}
    )
    participant.refresh_from_db()
    assert participant.has_pledge and participant.pledge_recorded_by == personas.chair


def test_another_participant_cannot_record_someone_elses_pledge(personas):
    meeting = make_meeting(
        chair=personas.chair,
        kind="support_meeting",
        participants=[personas.caseworker_a, personas.caseworker_b],
        pledged=False,
    )
    other = meeting.participants.get(user=personas.caseworker_b)
    with pytest.raises(PermissionError):
        ms.pledge_record(participant=other, by=personas.caseworker_a)


def test_a_layered_meeting_hides_an_item_once_consent_is_withdrawn(personas, layered, case_a, login):
    consent = case_a.person.consents.get()
    consent_withdraw(consent=consent, withdrawn_on=timezone.localdate(), by=personas.caseworker_a)
    item = layered.items.get()
    html = login(personas.caseworker_a).get(reverse("meetings:item", args=[layered.pk, item.pk])).content.decode()
    assert "本人同意が確認できない" in html and case_a.summary not in html
    assert case_a.person.family_name not in html


def test_opening_a_layered_item_logs_the_consent(personas, layered, case_a, login):
    item = layered.items.get()
    consent = case_a.person.consents.get()
    response = login(personas.caseworker_a).get(reverse("meetings:item", args=[layered.pk, item.pk]))
    assert response.status_code == 200
    row = AccessLog.objects.filter(actor=personas.caseworker_a, object_type="agendaitem").latest("id")
    assert row.basis == AccessLog.Basis.CONSENT and row.basis_ref == str(consent.pk)
    assert row.person_ids == [case_a.person.pk]


def ms_participant_self(meeting, user):
    return meeting.participants.get(user=user)
