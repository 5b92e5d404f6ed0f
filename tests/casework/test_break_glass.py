"""Break-glass: a stated reason opens a case read-only for a while, logged with its basis."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import audit
from casework.models import AccessLog, BreakGlassAccess
from casework.selectors import break_glass_uses
from casework.services.break_glass import break_glass_review

REASON = "夜間に本人の安否確認の通報があり、緊急連絡先を確認するため"


@pytest.mark.django_db
def test_a_stated_reason_opens_the_case_read_only_and_every_view_is_logged_with_its_basis(personas, login, case_a):
    client = login(personas.caseworker_b)
    detail = reverse("casework:case_detail", args=[case_a.pk])
    assert client.get(detail).status_code == 404
    response = client.post(reverse("casework:break_glass"), {"number": case_a.number.lower(), "reason": REASON})
    assert response.status_code == 302 and response["Location"] == detail
    grant = BreakGlassAccess.objects.get(user=personas.caseworker_b, case=case_a)
    html = client.get(detail).content.decode()
    assert "緊急アクセスで閲覧しています" in html and "支援経過を記録" not in html
    row = AccessLog.objects.filter(actor=personas.caseworker_b, object_type="case").latest("id")
    assert row.basis == AccessLog.Basis.BREAK_GLASS and row.basis_ref == str(grant.pk)
    assert row.auth_strength == AccessLog.AuthStrength.BREAK_GLASS
    assert row.person_ids == sorted(case_a.household.members.values_list("person_id", flat=True))
    # Read-only: change screens stay closed.
    assert client.get(reverse("casework:contact_create", args=[case_a.pk])).status_code == 404
    assert (
        client.post(
            reverse("casework:transition", args=[case_a.pk]), {"to_state": "assessment", "expected_version": 1}
        ).status_code
        == 404
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "reason", ["", "急ぎ", "ああああああああああああ", "aaaaaaaaaaaaaaaa", "１２１２１２１２１２１２"]
)
def test_the_reason_must_be_a_real_sentence(personas, login, case_a, reason):
    response = login(personas.caseworker_b).post(
        reverse("casework:break_glass"), {"number": case_a.number, "reason": reason}
    )
    assert response.status_code == 200
    assert not BreakGlassAccess.objects.exists()


@pytest.mark.django_db
def test_an_unknown_number_is_404_only_after_the_reason_and_is_logged(personas, login, case_a):
    client = login(personas.caseworker_b)
    assert client.get(reverse("casework:break_glass")).status_code == 200
    assert client.post(reverse("casework:break_glass"), {"number": "R7-999999", "reason": REASON}).status_code == 404
    row = AccessLog.objects.filter(actor=personas.caseworker_b).latest("id")
    assert row.action == AccessLog.Action.DENIED and row.object_id == "R7-999999"


@pytest.mark.django_db
def test_the_access_expires(personas, login, case_a):
    client = login(personas.caseworker_b)
    client.post(reverse("casework:break_glass"), {"number": case_a.number, "reason": REASON})
    BreakGlassAccess.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("casework:case_detail", args=[case_a.pk])).status_code == 404


@pytest.mark.django_db
def test_auditors_get_the_uses_and_record_a_review(personas, login, case_a, settings):
    settings.BREAK_GLASS_MINUTES = 5
    login(personas.caseworker_b).post(reverse("casework:break_glass"), {"number": case_a.number, "reason": REASON})
    grant = BreakGlassAccess.objects.get()
    assert timedelta(minutes=4) < grant.expires_at - grant.started_at <= timedelta(minutes=5)
    today = timezone.localdate()
    assert list(break_glass_uses(today, today + timedelta(days=1))) == [grant]
    assert list(break_glass_uses(today - timedelta(days=2), today - timedelta(days=1))) == []
    reviewed = break_glass_review(access=grant, by=personas.auditor, note="通報記録と一致。妥当。")
    assert reviewed.reviewed_by == personas.auditor and reviewed.reviewed_at is not None


@pytest.mark.django_db
def test_a_page_is_refused_with_503_when_the_log_cannot_be_written(personas, login, case_a, monkeypatch):
    def broken(**kwargs):
        raise audit.AccessLogUnavailable("disk full")

    monkeypatch.setattr(audit, "log_access", broken)
    client = login(personas.caseworker_a)
    for url in [reverse("casework:case_detail", args=[case_a.pk]), reverse("casework:case_list")]:
        response = client.get(url)
        assert response.status_code == 503
        html = response.content.decode()
        assert "アクセス記録を書き込めない" in html
        assert case_a.subjects.first().family_name not in html.split("<main")[1]
    # A write whose log row fails changes nothing.
    response = client.post(reverse("casework:contact_create", args=[case_a.pk]), {})
    assert response.status_code == 503
    home = client.get(reverse("home"))
    assert home.status_code == 200 and "アクセス記録を書き込めないため表示できません" in home.content.decode()
