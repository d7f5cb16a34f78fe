from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("programmes", apis.ProgrammeViewSet, basename="programme")
router.register("companies", apis.CompanyViewSet, basename="company")
router.register("applications", apis.ApplicationViewSet, basename="application")
router.register("notifications", apis.NotificationViewSet, basename="notification")

items = apis.MachineItemViewSet
documents = apis.DocumentViewSet
visits = apis.SiteVisitViewSet

urlpatterns = [
    path("regions/", apis.RegionsApi.as_view(), name="regions"),
    path("eligibility-check/", apis.EligibilityCheckApi.as_view(), name="eligibility-check"),
    path(
        "invitations/<str:token>/accept/",
        apis.InvitationAcceptApi.as_view(),
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
        apis.DocumentDownloadApi.as_view(),
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
        apis.SiteVisitPhotoDownloadApi.as_view(),
        name="site-visit-photo-download",
    ),
    *router.urls,
]
