from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from casework.forms import LoginForm
from config import views
from referrals import api as referrals_api

handler500 = "config.views.server_error"

admin.site.site_header = _("重層的支援 ケース管理 管理画面")
admin.site.site_title = _("管理画面")
admin.site.index_title = _("利用者・機関の管理")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/", include("casework.accounts.urls")),
    path("admin/", admin.site.urls),
    path("audit/", include("casework.audit.urls")),
    path("", include("casework.urls")),
    path("places/", include("places.urls")),
    path("referrals/", include("referrals.urls")),
    path("meetings/", include("meetings.urls")),
    path("indicators/", include("indicators.urls")),
    # The read-only open API (tokens per organization; casework.api_access).
    path("api/hsds/", include("places.api")),
    path("api/fhir/", include("referrals.api")),
    path("api/openapi.json", referrals_api.openapi, name="api_openapi"),
]
