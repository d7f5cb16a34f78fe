from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import set_language

from .health import healthz
from .views import NotFoundApi

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("subsidy.urls")),
    # Pages: the language switch (a signed-in user's choice is saved), accounts, the programme.
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("accounts.web_urls")),
    path("", include("subsidy.web.urls")),
    # Last: any other path under /api/ is the contract's JSON 404, even with DEBUG on (where
    # Django would answer its HTML debug page instead of calling handler404).
    re_path(r"^api/", NotFoundApi.as_view(), name="api-not-found"),
]

# The API answers in the contract's JSON shape even where no route matched or a bug slipped.
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
