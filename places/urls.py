from django.urls import path

from places import views

app_name = "places"

urlpatterns = [
    path("", views.place_list, name="list"),
    path("new/", views.place_create, name="create"),
    path("<int:pk>/", views.place_detail, name="detail"),
    path("<int:pk>/edit/", views.place_edit, name="edit"),
    path("<int:pk>/attendance/", views.attendance, name="attendance"),
    path("<int:pk>/attendance/session/", views.attendance_session, name="attendance_session"),
    path("match/", views.match, name="match"),
    path("import/", views.import_upload, name="import"),
    path("import/<uuid:token>/", views.import_job, name="import_job"),
    path("import/<uuid:token>/confirm/", views.import_confirm, name="import_confirm"),
    path("export/", views.export, name="export"),
    path("hsds/", views.hsds, name="hsds"),
]
