from django.urls import path

from casework.accounts import views as account_views

urlpatterns = [
    path("2fa/verify/", account_views.second_factor_verify, name="second_factor_verify"),
    path("2fa/setup/", account_views.second_factor_setup, name="second_factor_setup"),
    path("hat/", account_views.active_membership_switch, name="active_membership_switch"),
]
