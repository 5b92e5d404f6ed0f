"""URLs of the indicators dashboard, its drill-down and the yearly report export."""

from django.urls import path

from indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("figure/<str:key>/", views.drill, name="drill"),
    path("export/", views.export, name="export"),
    path("refresh/", views.refresh, name="refresh"),
]
