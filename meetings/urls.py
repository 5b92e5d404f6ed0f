from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_create, name="create"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/live/", views.meeting_live, name="live"),
    path("<int:pk>/pledge/", views.meeting_pledge, name="pledge"),
    path("<int:pk>/participants/", views.meeting_participants, name="participants"),
    path("<int:pk>/agenda/", views.agenda_edit, name="agenda"),
    path("<int:pk>/next/", views.meeting_next, name="next"),
    path("<int:pk>/status/", views.meeting_status, name="status"),
    path("<int:pk>/schedule/", views.meeting_schedule, name="schedule"),
    path("<int:pk>/minutes/", views.minutes, name="minutes"),
    # 会議録 as an A4 print view and a PDF.
    path("<int:pk>/minutes/sheet/", views.minutes_sheet, name="print_minutes"),
    path("<int:pk>/minutes/sheet.pdf", views.minutes_sheet, {"pdf": True}, name="pdf_minutes"),
    path("<int:pk>/items/<int:item_pk>/", views.item_detail, name="item"),
    path("<int:pk>/items/<int:item_pk>/notes/", views.item_notes, name="notes"),
    path("<int:pk>/items/<int:item_pk>/edit/", views.item_edit, name="item_edit"),
    path("<int:pk>/items/<int:item_pk>/decide/", views.item_decide, name="decide"),
    path("actions/<int:action_pk>/done/", views.action_done, name="action_done"),
    path("actions/<int:action_pk>/reopen/", views.action_reopen, name="action_reopen"),
    path("propose/<int:case_pk>/", views.case_propose, name="propose"),
    path("proposals/<int:proposal_pk>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
]
