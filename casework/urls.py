from django.urls import path

from casework.views import api_tokens, break_glass, cases, consent, intake, migration, paper, persons, plans

app_name = "casework"

urlpatterns = [
    path("cases/", cases.case_list, name="case_list"),
    path("cases/mine/", cases.case_list, {"mine": True}, name="case_mine"),
    path("cases/new/", intake.case_intake, name="case_intake"),
    path("cases/emergency/", break_glass.break_glass, name="break_glass"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/transition/", cases.transition, name="transition"),
    path("cases/<int:pk>/edit/", cases.case_edit, name="case_edit"),
    path("cases/<int:pk>/lead/", cases.case_change_lead_view, name="case_change_lead"),
    path("cases/<int:pk>/persons/<int:person_pk>/edit/", persons.person_edit, name="person_edit"),
    path("cases/<int:pk>/household/edit/", persons.household_edit, name="household_edit"),
    path(
        "cases/<int:pk>/household/members/<int:member_pk>/edit/",
        persons.household_member_edit,
        name="household_member_edit",
    ),
    path("cases/<int:pk>/team/", cases.team, name="team"),
    path("cases/<int:pk>/members/new/", persons.member_add, name="member_add"),
    path("cases/<int:pk>/consents/new/", consent.consent_create, name="consent_create"),
    path("cases/<int:pk>/consents/<int:consent_pk>/withdraw/", consent.consent_withdraw_view, name="consent_withdraw"),
    path("cases/<int:pk>/consents/<int:consent_pk>/form/", consent.consent_form_download, name="consent_form"),
    path("cases/<int:pk>/assessments/new/", plans.assessment_create, name="assessment_create"),
    path("cases/<int:pk>/assessments/<int:assessment_pk>/", plans.assessment_detail, name="assessment_detail"),
    path("cases/<int:pk>/plans/new/", plans.plan_create_view, name="plan_create"),
    path("cases/<int:pk>/plans/<int:plan_pk>/", plans.plan_detail, name="plan_detail"),
    path("cases/<int:pk>/contacts/new/", plans.contact_create, name="contact_create"),
    # 帳票: the A4 print view and the PDF of the same document; drawings as SVG.
    path("cases/<int:pk>/paper/face-sheet/", paper.face_sheet, name="print_face_sheet"),
    path("cases/<int:pk>/paper/face-sheet.pdf", paper.face_sheet, {"pdf": True}, name="pdf_face_sheet"),
    path("cases/<int:pk>/paper/intake-sheet/", paper.intake_sheet, name="print_intake_sheet"),
    path("cases/<int:pk>/paper/intake-sheet.pdf", paper.intake_sheet, {"pdf": True}, name="pdf_intake_sheet"),
    path("paper/intake-sheet-blank/", paper.intake_blank, name="print_intake_blank"),
    path("paper/intake-sheet-blank.pdf", paper.intake_blank, {"pdf": True}, name="pdf_intake_blank"),
    path("cases/<int:pk>/genogram.svg", paper.genogram, name="genogram"),
    path("cases/<int:pk>/ecomap.svg", paper.ecomap, name="ecomap"),
    path("cases/<int:pk>/family/", paper.family_edit, name="family_edit"),
    path("api/tokens/", api_tokens.token_list, name="api_tokens"),
    path("api/tokens/<int:pk>/revoke/", api_tokens.token_revoke, name="api_token_revoke"),
    path("migration/", migration.migration_home, name="migration"),
    path("migration/<int:pk>/", migration.migration_run, name="migration_run"),
    path("migration/<int:pk>/mapping/", migration.migration_mapping, name="migration_mapping"),
    path("migration/<int:pk>/apply/", migration.migration_apply, name="migration_apply"),
    path("migration/<int:pk>/cancel/", migration.migration_cancel, name="migration_cancel"),
]
