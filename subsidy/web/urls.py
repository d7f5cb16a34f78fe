from django.urls import include, path

from . import applications, views

applicant_patterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    # The application and its parts (task list, machines, documents, check answers).
    path("applications/<int:pk>/", applications.application, name="application"),
    path(
        "applications/<int:pk>/estimate/",
        applications.application_estimate,
        name="application_estimate",
    ),
    path(
        "applications/<int:pk>/withdraw/",
        applications.application_withdraw,
        name="application_withdraw",
    ),
    path(
        "applications/<int:pk>/letter/", applications.application_letter, name="application_letter"
    ),
    path("applications/<int:pk>/machines/", applications.machines, name="machines"),
    path("applications/<int:pk>/machines/add/", applications.machine_add, name="machine_add"),
    path("applications/<int:pk>/machines/<int:item_pk>/", applications.machine, name="machine"),
    path(
        "applications/<int:pk>/machines/<int:item_pk>/edit/",
        applications.machine_edit,
        name="machine_edit",
    ),
    path(
        "applications/<int:pk>/machines/<int:item_pk>/delete/",
        applications.machine_delete,
        name="machine_delete",
    ),
    path("applications/<int:pk>/documents/", applications.documents, name="documents"),
    path(
        "applications/<int:pk>/documents/upload/<slug:kind>/",
        applications.document_upload,
        name="document_upload",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_pk>/delete/",
        applications.document_delete,
        name="document_delete",
    ),
    path(
        "documents/<int:document_pk>/download/",
        applications.document_download,
        name="document_download",
    ),
    path(
        "applications/<int:pk>/check-answers/",
        applications.check_answers,
        name="check_answers",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("eligibility-check/", views.eligibility_check, name="eligibility_check"),
    path("", include((applicant_patterns, "applicant"))),
]
