from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox.csv", views.inbox_csv, name="inbox_csv"),
    path("sent/", views.outbox, name="outbox"),
    path("new/<str:kind>/", views.referral_new, name="new"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/edit/", views.referral_edit, name="edit"),
    path("<int:pk>/send/", views.referral_send, name="send"),
    path("<int:pk>/move/<str:move>/", views.referral_move, name="move"),
    path("<int:pk>/stages/", views.referral_stage, name="stage"),
    path("<int:pk>/attendance/", views.referral_attendance, name="attendance"),
    path("<int:pk>/notes/", views.referral_note, name="note"),
    path("<int:pk>/open-case/", views.tsunagi_open_case, name="open_case"),
    # つなぎシート (紹介状): the card as an A4 print view and a PDF.
    path("<int:pk>/sheet/", views.referral_sheet, name="print_sheet"),
    path("<int:pk>/sheet.pdf", views.referral_sheet, {"pdf": True}, name="pdf_sheet"),
]
