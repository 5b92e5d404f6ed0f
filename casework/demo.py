"""The demo municipality's organizations and users (idempotent)."""

from django.contrib.auth import get_user_model
from django.db import transaction

from casework.choices import Domain, Role
from casework.models import Organization
from casework.services import membership_add

DEMO_PASSWORD = "demo-pass-2026"

ORGANIZATIONS = [
    # (key, name, kind, domains)
    ("houkatsu", "みなみ地域包括支援センター", Organization.Kind.WINDOW, [Domain.ELDERLY]),
    ("shougai", "障害者相談支援センターあおば", Organization.Kind.WINDOW, [Domain.DISABILITY]),
    ("kodomo", "こども家庭センター", Organization.Kind.WINDOW, [Domain.CHILD]),
    ("jiritsu", "自立相談支援機関 くらしサポート", Organization.Kind.WINDOW, [Domain.POVERTY]),
    ("shakyo", "社会福祉協議会 多機関協働推進室", Organization.Kind.COORDINATOR, []),
    ("city", "みどり市 福祉部 重層的支援推進課", Organization.Kind.MUNICIPAL, []),
    ("npo_cafe", "NPO法人 まちの縁側", Organization.Kind.PLACE_OPERATOR, []),
    ("npo_shokudo", "みどり子ども食堂の会", Organization.Kind.PLACE_OPERATOR, []),
    ("salon", "ひだまりサロン運営委員会", Organization.Kind.PLACE_OPERATOR, []),
]

USERS = [
    # (username, last name, first name, organization key, role, title)
    ("houkatsu_sato", "佐藤", "美咲", "houkatsu", Role.CASEWORKER, "社会福祉士"),
    ("houkatsu_boss", "髙橋", "健一", "houkatsu", Role.SUPERVISOR, "センター長"),
    ("shougai_suzuki", "鈴木", "大輔", "shougai", Role.CASEWORKER, "相談支援専門員"),
    ("kodomo_tanaka", "田中", "由美", "kodomo", Role.CASEWORKER, "保健師"),
    ("jiritsu_ito", "伊藤", "翔", "jiritsu", Role.CASEWORKER, "主任相談支援員"),
    ("shakyo_watanabe", "渡邊", "恵子", "shakyo", Role.CASEWORKER, "コーディネーター"),
    ("city_yamamoto", "山本", "浩二", "city", Role.CASEWORKER, "係長（会議の議長）"),
    ("city_auditor", "中村", "明子", "city", Role.AUDITOR, "個人情報保護担当"),
    ("city_admin", "小林", "誠", "city", Role.ADMINISTRATOR, "システム担当"),
    ("cafe_kato", "加藤", "さくら", "npo_cafe", Role.PLACE_STAFF, "カフェ代表"),
    ("shokudo_yoshida", "吉田", "直樹", "npo_shokudo", Role.PLACE_STAFF, "食堂運営"),
    ("salon_yamada", "山田", "和子", "salon", Role.PLACE_STAFF, "サロン世話人"),
]


@transaction.atomic
def seed(stdout) -> dict:
    """Create the demo organizations and users; return organizations and users by key."""
    User = get_user_model()
    orgs = {}
    for key, name, kind, domains in ORGANIZATIONS:
        org = Organization.objects.filter(name=name).first() or Organization(name=name)
        org.kind, org.domains = kind, list(domains)
        org.save()
        orgs[key] = org
    users = {}
    for username, last, first, org_key, role, title in USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"last_name": last, "first_name": first, "email": f"{username}@example.jp"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        membership_add(user=user, organization=orgs[org_key], role=role, title=title)
        users[username] = user
    return {"organizations": orgs, "users": users}


def describe_logins() -> list[tuple[str, str, str]]:
    """Return (username, organization, role) for every demo login."""
    names = {key: name for key, name, _kind, _domains in ORGANIZATIONS}
    return [(u, names[org], str(Role(role).label)) for u, _l, _f, org, role, _t in USERS]


# A fixed, published TOTP key: for the demo's auditor and administrator only, never real accounts.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"


def demo_second_factor(user) -> None:
    """Give a demo user a confirmed TOTP device with the published demo key (idempotent)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.get_or_create(user=user, name="demo", defaults={"key": DEMO_TOTP_KEY, "confirmed": True})
