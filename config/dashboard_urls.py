"""URLs of the indicators dashboard, its drill-down and the yearly report export."""

from django.urls import path

from config import dashboard_views

app_name = "indicators"

urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),
    path("figure/<str:key>/", dashboard_views.drill, name="drill"),
    path("export/", dashboard_views.export, name="export"),
]
