from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import set_language

from .health import healthz
from .views import NotFoundApi

# Swagger UI loads its start-up script from a URL of its own (the split view), so scripts stay
# 'self' only; its page and components style themselves inline, which this page alone allows.
api_docs = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
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
