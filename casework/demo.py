"""The demo municipality's organizations and users (idempotent)."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from casework.assessment import SCHEMAS
from casework.choices import Domain, Role
from casework.models import Case, Consent, Household, Membership, Organization, Relative
from casework.services.cases import case_change_lead, case_open, case_team_add, case_transition
from casework.services.consent import consent_record
from casework.services.family import relative_add, support_tie_add
from casework.services.memberships import membership_add, membership_end
from casework.services.persons import household_add_member, household_create, person_create
from casework.services.plans import (
    assessment_record,
    contact_record_create,
    plan_approve,
    plan_create,
    plan_propose,
    plan_role_add,
)

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
    # Arrives on 4月1日 to take over 佐藤's cases (人事異動: the hand-over screen).
    ("houkatsu_ogawa", "小川", "春子", "houkatsu", Role.CASEWORKER, "社会福祉士"),
    # The center's own administrator (組織管理者): its accounts and memberships only.
    ("houkatsu_jimu", "森", "由紀", "houkatsu", Role.ORG_ADMIN, "事務長"),
    ("shougai_suzuki", "鈴木", "大輔", "shougai", Role.CASEWORKER, "相談支援専門員"),
    ("kodomo_tanaka", "田中", "由美", "kodomo", Role.CASEWORKER, "保健師"),
    ("jiritsu_ito", "伊藤", "翔", "jiritsu", Role.CASEWORKER, "主任相談支援員"),
    ("shakyo_watanabe", "渡邊", "恵子", "shakyo", Role.CASEWORKER, "コーディネーター"),
    ("city_yamamoto", "山本", "浩二", "city", Role.CASEWORKER, "係長（会議の議長）"),
    ("city_auditor", "中村", "明子", "city", Role.AUDITOR, "個人情報保護担当"),
    ("city_admin", "小林", "誠", "city", Role.ADMINISTRATOR, "システム担当"),
    # A second administrator: granting a case, auditor or administrator role takes two of them.
    ("city_admin2", "木村", "拓也", "city", Role.ADMINISTRATOR, "システム担当（承認）"),
    ("cafe_kato", "加藤", "さくら", "npo_cafe", Role.PLACE_STAFF, "カフェ代表"),
    ("shokudo_yoshida", "吉田", "直樹", "npo_shokudo", Role.PLACE_STAFF, "食堂運営"),
    ("salon_yamada", "山田", "和子", "salon", Role.PLACE_STAFF, "サロン世話人"),
    # Two hats: the 社協 coordinator also runs the サロン; she switches in the header.
    ("shakyo_watanabe", "渡邊", "恵子", "salon", Role.PLACE_STAFF, "サロン世話人（兼務）"),
]


@transaction.atomic
def seed(stdout) -> dict:
    """Create the demo organizations, users and cases; return them by key."""
    base = _seed_organizations_and_users()
    base["cases"] = seed_cases(stdout, base)
    seed_family(base)
    seed_duplicate(stdout, base)
    seed_approvals(stdout, base)
    seed_retention(stdout, base)
    return base


DUPLICATE_HOUSEHOLD = "山田一郎さん世帯（障害・デモ）"


def seed_duplicate(stdout, base) -> None:
    """Enter the 8050 son a second time from the disability window, as two windows do without a resident register.

    The disability window typed his furigana in hiragana and his address and phone with the IME;
    each window has the other on its case team (on the son's consent), so a caseworker of either
    finds the other record among the 名寄せ candidates and asks to link them; the other agrees.
    """
    from datetime import timedelta

    cases, orgs, users = base["cases"], base["organizations"], base["users"]
    case_8050 = cases.get("8050")
    if case_8050 is None or Household.objects.filter(name=DUPLICATE_HOUSEHOLD).exists():
        return
    suzuki, sato = users["shougai_suzuki"], users["houkatsu_sato"]
    today = timezone.localdate()
    h = household_create(name=DUPLICATE_HOUSEHOLD, tags=["hikikomori"], by=suzuki)
    son = _person(
        suzuki,
        family_name="山田",
        given_name="一郎",
        family_name_kana="やまだ",
        given_name_kana="いちろう",
        birth_date=date(1972, 1, 20),
        gender="male",
        postal_code="123-4567",
        prefecture="東京都",
        city="みどり市",
        street="南町２丁目３番４号",
        phone="０３－１２３４－５６７８",
    )
    household_add_member(household=h, person=son, relationship="self", by=suzuki)
    case = case_open(
        household=h,
        subjects=[son],
        domains=["disability"],
        categories=["disability_services"],
        main_category="disability_services",
        intake_route="self",
        lead_organization=orgs["shougai"],
        lead_worker=suzuki,
        opened_on=today - timedelta(days=20),
        summary="本人から電話。障害者手帳の取得と日中の居場所について相談したいとのこと。",
        by=suzuki,
    )
    consent_record(
        person=son,
        case=case,
        given_on=case.opened_on,
        method=Consent.Method.WRITTEN,
        explained_by=suzuki,
        document_version="令和7年度版",
        scope_kind=Consent.ScopeKind.CASE_TEAM,
        purposes=["share_with_agencies"],
        by=suzuki,
    )
    case_team_add(case=case, organization=orgs["houkatsu"], note="母の介護（8050）", by=suzuki)
    case_team_add(case=case_8050, organization=orgs["shougai"], note="本人の障害福祉サービス", by=sato)
    stdout.write(f"  デモケース {case.number}（{h.name}・名寄せの候補）")


# The household of the 決裁 demo: a case whose closure houkatsu_sato asked for, waiting for houkatsu_boss.
APPROVAL_DEMO_HOUSEHOLD = "中村さん世帯（デモ）"


def seed_approvals(stdout, base) -> None:
    """A 包括 case in support with a closure request by houkatsu_sato waiting on houkatsu_boss's やること."""
    from datetime import timedelta

    from casework.services.approvals import approval_request_closing
    from casework.services.cases import case_open_things

    if Household.objects.filter(name=APPROVAL_DEMO_HOUSEHOLD).exists():
        return
    orgs, users = base["organizations"], base["users"]
    sato = users["houkatsu_sato"]
    today = timezone.localdate()
    h = household_create(name=APPROVAL_DEMO_HOUSEHOLD, tags=["isolation"], by=sato)
    person = _person(
        sato,
        family_name="中村",
        given_name="トメ",
        family_name_kana="ナカムラ",
        given_name_kana="トメ",
        birth_date=date(1938, 4, 3),
        gender="female",
        postal_code="123-4568",
        prefecture="東京都",
        city="みどり市",
        street="北町5-6-7",
    )
    household_add_member(household=h, person=person, relationship="self", is_key_person=True, by=sato)
    case = case_open(
        household=h,
        subjects=[person],
        domains=["elderly"],
        categories=["care", "isolation"],
        main_category="care",
        intake_route="self",
        lead_organization=orgs["houkatsu"],
        lead_worker=sato,
        opened_on=today - timedelta(days=200),
        summary="一人暮らしで外出が減り、買い物に困っているとの本人からの相談。",
        by=sato,
    )
    case_transition(case=case, to_state="assessment", by=sato)
    case = case_transition(case=case, to_state="planning", by=sato)
    plan = plan_create(
        case=case,
        goals="介護保険の訪問介護と配食を使い、週1回はサロンに出かける。",
        period_start=today - timedelta(days=170),
        period_end=today + timedelta(days=10),
        next_review_on=today + timedelta(days=10),
        by=sato,
    )
    plan_approve(plan=plan, by=sato, decided_by_label="地域ケア会議（デモ）")
    case.refresh_from_db()
    contact_record_create(
        case=case,
        occurred_at=timezone.now() - timedelta(days=3),
        kind="visit",
        person=person,
        summary="自宅訪問。サービスが定着し、サロンにも通えている。本人も終結に同意。",
        by=sato,
    )
    choices = {thing.key: thing.choices[0][0] for thing in case_open_things(case, sato)}
    approval = approval_request_closing(
        case=case,
        to_state="closed",
        by=sato,
        reason="訪問介護と配食が定着し、サロンにも週1回通えている。本人も終結に同意したため。",
        choices=choices,
    )
    stdout.write(f"  決裁待ち: ケース {case.number} の終結（申請 houkatsu_sato → 決裁 houkatsu_boss）#{approval.pk}")


OLD_CLOSED_HOUSEHOLD = "森さん世帯（デモ・保存期間満了）"


def seed_retention(stdout, base) -> None:
    """A case closed in 令和元年度, past the five-year default, for the retention list (skipped when present).

    The city's rules stay unconfirmed: the administrator confirms them on the 保存期間と廃棄 screen.
    """
    from datetime import datetime, time, timedelta

    from casework.models import CaseTransition, ContactRecord
    from casework.services.retention import retention_rules_ensure
    from core.japanese import fiscal_year

    if Household.objects.filter(name=OLD_CLOSED_HOUSEHOLD).exists():
        return
    ito = base["users"]["jiritsu_ito"]
    today = timezone.localdate()
    opened = date(fiscal_year(today) - 8, 6, 10)
    closed = date(fiscal_year(today) - 7, 9, 30)
    h = household_create(name=OLD_CLOSED_HOUSEHOLD, tags=["isolation"], by=ito)
    p = _person(
        ito,
        family_name="森",
        given_name="正男",
        family_name_kana="モリ",
        given_name_kana="マサオ",
        birth_date=date(1958, 8, 8),
        gender="male",
    )
    household_add_member(household=h, person=p, relationship="self", by=ito)
    case = case_open(
        household=h,
        subjects=[p],
        domains=["poverty"],
        categories=["livelihood", "employment"],
        main_category="livelihood",
        intake_route="self",
        lead_organization=base["organizations"]["jiritsu"],
        lead_worker=ito,
        opened_on=opened,
        summary="失職して家賃の支払いが難しいとの本人からの相談。",
        by=ito,
    )
    contact_record_create(
        case=case,
        occurred_at=timezone.make_aware(datetime.combine(opened + timedelta(days=7), time(10, 0))),
        kind="interview",
        summary="家計の状況を確認し、住居確保給付金の申請を案内した。",
        person=p,
        by=ito,
    )
    for to in ["assessment", "planning", "in_support"]:
        case = case_transition(case=case, to_state=to, by=ito)
    case = case_transition(case=case, to_state="closed", reason="再就職し家計が安定したため", by=ito)
    # The demo's history happened years ago: date the closure and its records back.
    Case.objects.filter(pk=case.pk).update(closed_on=closed)
    CaseTransition.objects.filter(case=case).update(at=timezone.make_aware(datetime.combine(closed, time(15, 0))))
    ContactRecord.objects.filter(case=case).update(
        occurred_at=timezone.make_aware(datetime.combine(opened + timedelta(days=7), time(10, 0)))
    )
    retention_rules_ensure()
    stdout.write(f"  保存期間を過ぎた終結ケース {case.number}（{OLD_CLOSED_HOUSEHOLD}・終結 {closed}）")


def seed_family(base) -> None:
    """Give the 8050 and young-carer households what their genogram and ecomap draw (skipped when present)."""
    from datetime import date

    cases, users = base["cases"], base["users"]
    case = cases.get("8050")
    if case is not None and not Relative.objects.filter(household_id=case.household_id).exists():
        sato = users["houkatsu_sato"]
        relative_add(
            case=case,
            by=sato,
            name="山田　正",
            relationship="spouse",
            gender="male",
            birth_date=date(1940, 4, 1),
            is_deceased=True,
            died_on=date(2015, 3, 1),
            partnership="bereaved",
        )
        relative_add(
            case=case,
            by=sato,
            name="鈴木　恵子",
            relationship="child",
            relationship_note="長女",
            gender="female",
            age=51,
            lives_in="大阪市",
            note="年に一度帰省",
        )
        support_tie_add(case=case, by=sato, name="民生委員 佐藤さん", kind="commissioner", strength="strong")
        support_tie_add(case=case, by=sato, name="隣家の木村さん", kind="neighbour", strength="weak")
        support_tie_add(
            case=case, by=sato, name="長女（大阪市）", kind="family", strength="weak", quality="stressful",
            note="介護をめぐり母と口論",
        )  # fmt: skip
    case = cases.get("young_carer")
    if case is not None and not Relative.objects.filter(household_id=case.household_id).exists():
        tanaka = users["kodomo_tanaka"]
        relative_add(
            case=case,
            by=tanaka,
            name="",
            relationship="parent",
            relationship_note="父",
            gender="male",
            age=45,
            lives_in="県外",
            note="離婚後連絡なし",
        )
        support_tie_add(case=case, by=tanaka, name="中学校の担任", kind="work_school", strength="normal")
        support_tie_add(case=case, by=tanaka, name="母方の祖母", kind="family", strength="weak")


def _seed_organizations_and_users() -> dict:
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
    # 人事異動: 佐藤 moves to another section on 4月1日 next fiscal year (the end date takes effect by itself).
    sato = Membership.objects.get(user=users["houkatsu_sato"], organization=orgs["houkatsu"], role=Role.CASEWORKER)
    if sato.is_active and sato.ends_on is None:
        next_april = date(timezone.localdate().year + (1 if timezone.localdate().month >= 4 else 0), 4, 1)
        membership_end(membership=sato, on=next_april, reason="人事異動（福祉総務課へ）")
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


# ---------------------------------------------------------------------------
# Demo households and cases, created through the services (so grants and access-log rows are real)
# ---------------------------------------------------------------------------

DEMO_HOUSEHOLDS = {
    # key: household name (the idempotency marker)
    "8050": "山田さん世帯（デモ）",
    "double_care": "髙橋さん世帯（デモ）",
    "young_carer": "𠮷田さん世帯（デモ）",
}


def _person(by, **fields):

    return person_create(by=by, **fields)


def seed_cases(stdout, base) -> dict:
    """Create three realistic households with cases in different states (skipped when present)."""
    from datetime import date, datetime, time, timedelta

    from django.utils import timezone

    orgs, users = base["organizations"], base["users"]
    existing = {h.name: h for h in Household.objects.filter(name__in=DEMO_HOUSEHOLDS.values())}
    if len(existing) == len(DEMO_HOUSEHOLDS):
        return {
            key: Case.objects.filter(household=existing[name]).order_by("id").first()
            for key, name in DEMO_HOUSEHOLDS.items()
        }

    today = timezone.localdate()

    def at(days_ago: int, hour: int = 10) -> datetime:
        return timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(hour, 0)))

    def checklist(**answers):
        return {key: answers.get(key, "none") for key, _label in SCHEMAS[1]}

    def consent(person, case, by, purposes, **kwargs):
        return consent_record(
            person=person,
            case=case,
            given_on=kwargs.pop("given_on", case.opened_on),
            method=kwargs.pop("method", Consent.Method.WRITTEN),
            explained_by=by,
            document_version="令和7年度版",
            scope_kind=kwargs.pop("scope_kind", Consent.ScopeKind.CASE_TEAM),
            purposes=purposes,
            by=by,
            **kwargs,
        )

    cases = {}

    # 1. The 8050 household: a mother in her 80s and her withdrawn son in his 50s.
    sato = users["houkatsu_sato"]
    if DEMO_HOUSEHOLDS["8050"] not in existing:
        h = household_create(name=DEMO_HOUSEHOLDS["8050"], tags=["8050", "hikikomori", "isolation"], by=sato)
        mother = _person(
            sato,
            family_name="山田",
            given_name="ハル",
            family_name_kana="ヤマダ",
            given_name_kana="ハル",
            birth_date=date(1943, 9, 12),
            gender="female",
            postal_code="123-4567",
            prefecture="東京都",
            city="みどり市",
            street="南町2-3-4",
            phone="03-1234-5678",
        )
        son = _person(
            sato,
            family_name="山田",
            given_name="一郎",
            family_name_kana="ヤマダ",
            given_name_kana="イチロウ",
            birth_date=date(1972, 1, 20),
            gender="male",
            preferred_name="いっちゃん",
        )
        household_add_member(household=h, person=mother, relationship="self", is_key_person=True, by=sato)
        household_add_member(household=h, person=son, relationship="child", by=sato)
        case = case_open(
            household=h,
            subjects=[mother, son],
            domains=["elderly", "poverty", "other"],
            categories=["care", "hikikomori", "livelihood"],
            main_category="care",
            intake_route="neighbour",
            lead_organization=orgs["houkatsu"],
            lead_worker=sato,
            opened_on=today - timedelta(days=120),
            summary="民生委員から、80代の母の物忘れが進み、50代の息子が長年ひきこもっていて家計が心配との相談。",
            by=sato,
        )
        # Consent first: adding an organization to the team is a share and needs its basis.
        consent(mother, case, sato, ["share_with_agencies", "layered_meeting"])
        consent(son, case, sato, ["share_with_agencies"], method=Consent.Method.ORAL)
        case_team_add(case=case, organization=orgs["jiritsu"], note="家計・就労", by=sato)
        case_team_add(case=case, organization=orgs["shakyo"], note="多機関協働", by=sato)
        case_transition(case=case, to_state="assessment", by=sato)
        assessment_record(
            case=case,
            checklist=checklist(health="some", care="urgent", income="some", isolation="urgent"),
            narrative="母は要介護認定未申請。息子は20年以上就労していない。年金のみで生活。",
            assessed_on=today - timedelta(days=100),
            by=sato,
        )
        case = case_transition(case=case, to_state="planning", by=sato)
        plan = plan_create(
            case=case,
            goals="母の介護保険サービス利用開始。息子が相談につながり、居場所に通えるようにする。",
            period_start=today - timedelta(days=80),
            period_end=today + timedelta(days=200),
            next_review_on=today + timedelta(days=7),
            includes_participation_support=True,
            includes_outreach=True,
            by=sato,
        )
        plan_role_add(
            plan=plan,
            organization=orgs["houkatsu"],
            role="主担当・介護サービス調整",
            actions="要介護認定の申請支援",
            by=sato,
        )
        plan_role_add(
            plan=plan,
            organization=orgs["jiritsu"],
            role="家計改善・就労準備",
            actions="家計相談、就労準備支援",
            by=sato,
        )
        plan_propose(plan=plan, by=sato)
        plan_approve(plan=plan, by=sato, decided_by_label="重層的支援会議（デモ）")
        contact_record_create(
            case=case,
            occurred_at=at(90),
            kind="visit",
            person=mother,
            is_outreach=True,
            summary="自宅訪問。母と面談。息子は自室から出てこなかった。",
            by=sato,
        )
        contact_record_create(
            case=case,
            occurred_at=at(60, 15),
            kind="absent",
            person=son,
            is_outreach=True,
            summary="息子への訪問。応答なし。手紙を置いた。",
            by=sato,
        )
        contact_record_create(
            case=case,
            occurred_at=at(30, 14),
            kind="interview",
            person=son,
            is_outreach=True,
            sensitive=True,
            summary="息子と玄関先で10分ほど会話。体調の不安を話した。",
            by=users["jiritsu_ito"],
        )
        cases["8050"] = case

    # 2. Double care: a mother in her 40s with a toddler and her own mother needing care.
    tanaka = users["kodomo_tanaka"]
    if DEMO_HOUSEHOLDS["double_care"] not in existing:
        h = household_create(name=DEMO_HOUSEHOLDS["double_care"], tags=["double_care"], by=tanaka)
        mum = _person(
            tanaka,
            family_name="髙橋",
            given_name="由美子",
            family_name_kana="タカハシ",
            given_name_kana="ユミコ",
            birth_date=date(1983, 6, 3),
            gender="female",
            phone="090-1111-2222",
        )
        child = _person(
            tanaka,
            family_name="髙橋",
            given_name="陽向",
            family_name_kana="タカハシ",
            given_name_kana="ヒナタ",
            birth_date=today.replace(year=today.year - 2, day=1),
            gender="male",
        )
        grandma = _person(
            tanaka,
            family_name="佐々木",
            given_name="トメ",
            family_name_kana="ササキ",
            given_name_kana="トメ",
            birth_date=date(1949, 2, 14),
            gender="female",
        )
        household_add_member(household=h, person=mum, relationship="self", is_key_person=True, by=tanaka)
        household_add_member(household=h, person=child, relationship="child", by=tanaka)
        household_add_member(
            household=h, person=grandma, relationship="parent", relationship_note="実母（要介護2）", by=tanaka
        )
        case = case_open(
            household=h,
            subjects=[mum, grandma],
            domains=["child", "elderly"],
            categories=["childcare", "care"],
            main_category="childcare",
            intake_route="self",
            lead_organization=orgs["kodomo"],
            lead_worker=tanaka,
            opened_on=today - timedelta(days=40),
            summary="子育てと実母の介護が重なり、疲れ切っているとの本人からの相談。",
            by=tanaka,
        )
        consent(mum, case, tanaka, ["share_with_agencies", "layered_meeting", "place_referral"])
        consent(
            grandma, case, tanaka, ["share_with_agencies"], given_by=Consent.GivenBy.SELF, method=Consent.Method.ORAL
        )
        case_team_add(case=case, organization=orgs["houkatsu"], note="祖母の介護", by=tanaka)
        case_transition(case=case, to_state="assessment", by=tanaka)
        assessment_record(
            case=case,
            checklist=checklist(care="some", child="some", health="some"),
            narrative="母の睡眠不足が続いている。祖母のデイサービス増回と一時保育の利用を検討。",
            assessed_on=today - timedelta(days=30),
            by=tanaka,
        )
        case_transition(case=case, to_state="planning", by=tanaka)
        plan = plan_create(
            case=case, goals="母の休息時間を週2回確保する。", next_review_on=today + timedelta(days=60), by=tanaka
        )
        plan_role_add(plan=plan, organization=orgs["kodomo"], role="一時保育の調整", by=tanaka)
        plan_role_add(plan=plan, organization=orgs["houkatsu"], role="祖母のケアプラン見直し", by=tanaka)
        contact_record_create(
            case=case, occurred_at=at(35), kind="phone", person=mum, summary="電話で状況確認。", by=tanaka
        )
        contact_record_create(
            case=case,
            occurred_at=at(20),
            kind="accompany",
            person=mum,
            summary="保育園の一時保育窓口に同行。",
            by=tanaka,
        )
        cases["double_care"] = case

    # 3. A young carer: a junior-high pupil caring for a mentally ill mother and a younger brother.
    if DEMO_HOUSEHOLDS["young_carer"] not in existing:
        h = household_create(name=DEMO_HOUSEHOLDS["young_carer"], tags=["young_carer"], by=tanaka)
        pupil = _person(
            tanaka,
            family_name="𠮷田",
            given_name="葵",
            family_name_kana="ヨシダ",
            given_name_kana="アオイ",
            birth_date=today.replace(year=today.year - 14, day=1),
            gender="female",
        )
        mother = _person(
            tanaka,
            family_name="𠮷田",
            given_name="真理",
            family_name_kana="ヨシダ",
            given_name_kana="マリ",
            birth_date=date(1985, 11, 30),
            gender="female",
            address_secret=True,
            city="みどり市",
            street="北町5-6",
        )
        brother = _person(
            tanaka,
            family_name="𠮷田",
            given_name="蓮",
            family_name_kana="ヨシダ",
            given_name_kana="レン",
            birth_date=today.replace(year=today.year - 8, day=1),
            gender="male",
        )
        household_add_member(household=h, person=pupil, relationship="self", by=tanaka)
        household_add_member(household=h, person=mother, relationship="parent", is_key_person=True, by=tanaka)
        household_add_member(household=h, person=brother, relationship="sibling", by=tanaka)
        case = case_open(
            household=h,
            subjects=[pupil, mother],
            domains=["child", "disability"],
            categories=["childcare", "health", "disability_services"],
            main_category="childcare",
            intake_route="agency",
            lead_organization=orgs["kodomo"],
            lead_worker=tanaka,
            opened_on=today - timedelta(days=10),
            summary="中学校から、遅刻と欠席が増えている生徒が母と弟の世話をしているようだとの連絡。",
            by=tanaka,
        )
        consent(mother, case, tanaka, ["share_with_agencies"], given_on=today - timedelta(days=8))
        consent(
            pupil,
            case,
            tanaka,
            ["share_with_agencies"],
            given_by=Consent.GivenBy.LEGAL_REPRESENTATIVE,
            giver_name="𠮷田 真理",
            given_on=today - timedelta(days=8),
        )
        case_team_add(case=case, organization=orgs["shougai"], note="母の障害福祉サービス", by=tanaka)
        contact_record_create(
            case=case,
            occurred_at=at(9, 16),
            kind="visit",
            is_outreach=True,
            summary="家庭訪問。母は体調不良で横になっていた。",
            by=tanaka,
        )
        contact_record_create(
            case=case,
            occurred_at=at(5, 16),
            kind="refused",
            person=mother,
            is_outreach=True,
            summary="再訪問。今日は話したくないとのこと。",
            by=tanaka,
        )
        cases["young_carer"] = case

    # A closed case in another window, so the list shows 終結 too; taken in by the poverty window and
    # handed over to the disability window once the group home became the main task (主担当の変更).
    suzuki, ito = users["shougai_suzuki"], users["jiritsu_ito"]
    if "young_carer" in cases and not Case.objects.filter(household__name="鈴木さん世帯（デモ）").exists():
        h = household_create(name="鈴木さん世帯（デモ）", tags=["elder_disabled_care"], by=ito)
        p = _person(
            ito,
            family_name="鈴木",
            given_name="健",
            family_name_kana="スズキ",
            given_name_kana="ケン",
            birth_date=date(1968, 3, 3),
            gender="male",
        )
        household_add_member(household=h, person=p, relationship="self", by=ito)
        case = case_open(
            household=h,
            subjects=[p],
            domains=["disability", "poverty"],
            categories=["disability_services", "livelihood"],
            main_category="livelihood",
            intake_route="family",
            lead_organization=orgs["jiritsu"],
            lead_worker=ito,
            opened_on=today - timedelta(days=300),
            summary="高齢の母の介護が難しくなり、本人の生活の場と家計が心配との家族からの相談。グループホーム入居を希望。",
            by=ito,
        )
        case_change_lead(
            case=case,
            organization=orgs["shougai"],
            lead_worker=suzuki,
            reason="家計の見通しが立ち、グループホーム入居の調整が支援の中心になったため（本人・家族と確認済み）。",
            by=ito,
        )
        for to in ["assessment", "planning", "in_support"]:
            case = case_transition(case=case, to_state=to, by=suzuki)
        case = case_transition(
            case=case,
            to_state="closed",
            reason="グループホームへの入居が決まり安定したため",
            by=suzuki,
            decided_by_label="重層的支援会議（デモ）",
        )
        cases["closed_disability"] = case

    for case in cases.values():
        case.refresh_from_db()
        stdout.write(f"  デモケース {case.number}（{case.household.name}・{case.get_state_display()}）")
    existing_cases = {
        key: Case.objects.filter(household=existing[name]).order_by("id").first()
        for key, name in DEMO_HOUSEHOLDS.items()
        if name in existing
    }
    return {**existing_cases, **cases}
