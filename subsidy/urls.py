from django.urls import path
from rest_framework.routers import SimpleRouter

from subsidy.api import applications as applications_api
from subsidy.api import companies as companies_api
from subsidy.api import documents as documents_api
from subsidy.api import eligibility as eligibility_api
from subsidy.api import exports as exports_api
from subsidy.api import items as items_api
from subsidy.api import notifications as notifications_api
from subsidy.api import programmes as programmes_api
from subsidy.api import site_visits as site_visits_api
from subsidy.api import statistics as statistics_api
from subsidy.exports import stream as csv_exports

router = SimpleRouter()
router.register("programmes", programmes_api.ProgrammeViewSet, basename="programme")
router.register("companies", companies_api.CompanyViewSet, basename="company")
router.register("applications", applications_api.ApplicationViewSet, basename="application")
router.register("notifications", notifications_api.NotificationViewSet, basename="notification")

items = items_api.MachineItemViewSet
documents = documents_api.DocumentViewSet
visits = site_visits_api.SiteVisitViewSet

urlpatterns = [
    path("regions/", companies_api.RegionsApi.as_view(), name="regions"),
    path(
        "eligibility-check/",
        eligibility_api.EligibilityCheckApi.as_view(),
        name="eligibility-check",
    ),
    path("statistics/", statistics_api.StatisticsApi.as_view(), name="api-statistics"),
    path(
        "invitations/<str:token>/accept/",
        companies_api.InvitationAcceptApi.as_view(),
        name="invitation-accept",
    ),
    path(
        "applications/<int:application_pk>/items/",
        items.as_view({"get": "list", "post": "create"}),
        name="application-items",
    ),
    path(
        "applications/<int:application_pk>/items/<int:pk>/",
        items.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="application-item",
    ),
    path(
        "applications/<int:application_pk>/documents/",
        documents.as_view({"get": "list", "post": "create"}),
        name="application-documents",
    ),
    path(
        "applications/<int:application_pk>/documents/<int:pk>/",
        documents.as_view({"get": "retrieve", "delete": "destroy"}),
        name="application-document",
    ),
    path(
        "documents/<int:pk>/download/",
        documents_api.DocumentDownloadApi.as_view(),
        name="document-download",
    ),
    path(
        "applications/<int:application_pk>/site-visits/",
        visits.as_view({"get": "list", "post": "create"}),
        name="application-site-visits",
    ),
    path(
        "applications/<int:application_pk>/site-visits/<int:pk>/",
        visits.as_view({"get": "retrieve"}),
        name="application-site-visit",
    ),
    path(
        "applications/<int:application_pk>/site-visits/<int:pk>/photos/",
        visits.as_view({"post": "photos"}),
        name="application-site-visit-photos",
    ),
    path(
        "site-visit-photos/<int:pk>/download/",
        site_visits_api.SiteVisitPhotoDownloadApi.as_view(),
        name="site-visit-photo-download",
    ),
    path(
        "exports/applications.csv",
        csv_exports.ApplicationsCsvApi.as_view(),
        name="export-applications-csv",
    ),
    path("exports/items.csv", csv_exports.ItemsCsvApi.as_view(), name="export-items-csv"),
    # Background exports (issue 12); the streamed CSVs are exports/applications.csv, items.csv.
    path(
        "exports/",
        exports_api.ExportViewSet.as_view({"get": "list", "post": "create"}),
        name="exports",
    ),
    path(
        "exports/<int:pk>/", exports_api.ExportViewSet.as_view({"get": "retrieve"}), name="export"
    ),
    path(
        "exports/<int:pk>/download/",
        exports_api.ExportDownloadApi.as_view(),
        name="export-download",
    ),
    *router.urls,
]
