from django.urls import path

from casework.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.log_search, name="log"),
    path("export/", views.log_export, name="export"),
    path("persons/", views.person_history, name="person_history"),
    path("reports/<slug:slug>/", views.report, name="report"),
    path("chain/", views.chain, name="chain"),
]
