from django.urls import path

from casework.views import break_glass, cases, consent, intake, persons, plans

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
]
