from django.urls import path

from casework import views

app_name = "casework"

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/mine/", views.case_list, {"mine": True}, name="case_mine"),
    path("cases/new/", views.case_intake, name="case_intake"),
    path("cases/emergency/", views.break_glass, name="break_glass"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/transition/", views.transition, name="transition"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/lead/", views.case_change_lead, name="case_change_lead"),
    path("cases/<int:pk>/persons/<int:person_pk>/edit/", views.person_edit, name="person_edit"),
    path("cases/<int:pk>/household/edit/", views.household_edit, name="household_edit"),
    path(
        "cases/<int:pk>/household/members/<int:member_pk>/edit/",
        views.household_member_edit,
        name="household_member_edit",
    ),
    path("cases/<int:pk>/team/", views.team, name="team"),
    path("cases/<int:pk>/members/new/", views.member_add, name="member_add"),
    path("cases/<int:pk>/consents/new/", views.consent_create, name="consent_create"),
    path("cases/<int:pk>/consents/<int:consent_pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("cases/<int:pk>/consents/<int:consent_pk>/form/", views.consent_form_download, name="consent_form"),
    path("cases/<int:pk>/assessments/new/", views.assessment_create, name="assessment_create"),
    path("cases/<int:pk>/assessments/<int:assessment_pk>/", views.assessment_detail, name="assessment_detail"),
    path("cases/<int:pk>/plans/new/", views.plan_create, name="plan_create"),
    path("cases/<int:pk>/plans/<int:plan_pk>/", views.plan_detail, name="plan_detail"),
    path("cases/<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
]
