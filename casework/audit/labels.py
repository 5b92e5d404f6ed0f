"""Japanese names of what an access-log row is about (the log stores short codes such as "case")."""

from django.utils.translation import gettext_lazy as _

# Every object type the application writes, by code; the auditor's screens and exports show the label.
OBJECT_TYPE_LABELS = {
    "case": _("ケース"),
    "case_home": _("ケース（ホーム画面の一覧）"),
    "case_number": _("ケース番号（緊急アクセスの照会）"),
    "casesubject": _("ケースの対象者"),
    "caseteammembership": _("ケースチーム"),
    "casetransition": _("ケースの状態変更"),
    "caseleadchange": _("主担当の変更"),
    "person": _("本人・世帯員"),
    "person_duplicates": _("重複候補の照会"),
    "household": _("世帯"),
    "householdmember": _("世帯員"),
    "relative": _("親族（ジェノグラム）"),
    "supporttie": _("支援のつながり（エコマップ）"),
    "consent": _("本人同意"),
    "assessment": _("アセスメント"),
    "supportplan": _("支援プラン"),
    "planrole": _("支援プランの役割分担"),
    "contactrecord": _("支援経過記録"),
    "breakglassaccess": _("緊急アクセス"),
    "face_sheet": _("フェイスシート"),
    "intake_sheet_no_consent": _("相談受付票（同意なし版）"),
    "intake_sheet_blank": _("相談受付票（白紙）"),
    "contact_records": _("支援経過記録（期間の印刷）"),
    "genogram": _("ジェノグラム"),
    "ecomap": _("エコマップ"),
    "organization": _("機関"),
    "membership": _("所属・役割"),
    "membershipgrant": _("役割の付与"),
    "user": _("職員アカウント"),
    "auth.second_factor": _("二要素認証"),
    "referral": _("紹介"),
    "referral_inbox": _("受け取った紹介の一覧"),
    "referral_outbox": _("送った紹介の一覧"),
    "referral_home": _("紹介（ホーム画面の一覧）"),
    "places.place": _("居場所"),
    "places.attendance": _("居場所の出欠"),
    "meeting": _("会議"),
    "agendaitem": _("会議の議題"),
    "decision": _("会議の決定"),
    "caseproposal": _("会議への提案"),
    "actionitem": _("会議の対応事項"),
    "action_home": _("対応事項（ホーム画面の一覧）"),
    "indicator:case": _("実績の内訳（ケース）"),
    "indicator:referral": _("実績の内訳（紹介）"),
    "indicator:meeting": _("実績の内訳（会議）"),
    "indicator:place": _("実績の内訳（居場所）"),
    "indicator_report": _("実績報告の出力"),
    "meetingparticipant": _("会議の参加者"),
    "accesslog": _("アクセス記録（監査画面）"),
    "disclosurerequest": _("開示請求"),
    "apitoken": _("APIトークン"),
    "hsds": _("公開API（居場所）"),
    "hsds_organization": _("公開API（運営団体）"),
    "hsds_service": _("公開API（居場所のサービス）"),
    "hsds_service_at_location": _("公開API（実施場所）"),
    "migrationrun": _("ケースの移行"),
    "handover": _("人事異動の引き継ぎ"),
    "workerhandover": _("人事異動の引き継ぎ（記録）"),
    "action": _("会議の対応事項（引き継ぎ）"),
    "approvalrequest": _("決裁"),
    "calendar_feed": _("カレンダー配信（ICS）"),
    "person_match_candidates": _("名寄せの候補"),
    "personmatch": _("名寄せ（紐付け・統合）"),
    "retentionrule": _("保存期間の規則"),
    "retentionrun": _("廃棄対象の一覧"),
    "disposaldecision": _("廃棄の決定"),
    "disposaltombstone": _("廃棄の記録"),
    "legalhold": _("廃棄の停止（リーガルホールド）"),
}

# What a case page and its forms log under the case's own id (a case-number search finds these).
CASE_OBJECT_TYPES = ("case", "face_sheet", "intake_sheet_no_consent", "genogram", "ecomap")


def object_type_label(code: str) -> str:
    """The Japanese name of an object type; an unknown code is shown as it is, marked, never hidden."""
    if not code:
        return ""
    label = OBJECT_TYPE_LABELS.get(code)
    return str(label) if label is not None else str(_("その他（%(code)s）") % {"code": code})


def object_type_choices() -> list[tuple[str, str]]:
    """The 対象種別 a search may choose, in Japanese order of the labels' table."""
    return [(code, str(label)) for code, label in OBJECT_TYPE_LABELS.items()]
