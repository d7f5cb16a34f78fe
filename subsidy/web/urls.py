from django.urls import include, path

from subsidy.web import exports as export_pages

from . import (
    applications,
    approver,
    companies,
    documents,
    finance,
    machines,
    office,
    office_visits,
    reports,
    views,
)

applicant_patterns = [
    # Dashboard, companies, members, invitations and notifications (issue 10).
    path("dashboard/", companies.dashboard, name="dashboard"),
    path(
        "dashboard/new-application/",
        companies.dashboard_new_application,
        name="dashboard_new_application",
    ),
    path("companies/new/", companies.company_new, name="company_new"),
    path("companies/<int:pk>/", companies.company_detail, name="company"),
    path("companies/<int:pk>/edit/", companies.company_edit, name="company_edit"),
    path("companies/<int:pk>/members/invite/", companies.members_invite, name="members_invite"),
    path(
        "companies/<int:pk>/members/<int:user_id>/remove/",
        companies.members_remove,
        name="members_remove",
    ),
    path("regions/regencies/", companies.regency_options, name="regency_options"),
    path("invitations/<str:token>/", companies.invitation, name="invitation"),
    path("notifications/", companies.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", companies.notification_read, name="notification_read"),
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
    path(
        "applications/<int:pk>/dossier/",
        applications.application_dossier,
        name="application_dossier",
    ),
    path("applications/<int:pk>/machines/", machines.machines, name="machines"),
    path("applications/<int:pk>/machines/add/", machines.machine_add, name="machine_add"),
    path("applications/<int:pk>/machines/<int:item_pk>/", machines.machine, name="machine"),
    path(
        "applications/<int:pk>/machines/<int:item_pk>/edit/",
        machines.machine_edit,
        name="machine_edit",
    ),
    path(
        "applications/<int:pk>/machines/<int:item_pk>/delete/",
        machines.machine_delete,
        name="machine_delete",
    ),
    path("applications/<int:pk>/documents/", documents.documents, name="documents"),
    path(
        "applications/<int:pk>/documents/upload/<slug:kind>/",
        documents.document_upload,
        name="document_upload",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_pk>/delete/",
        documents.document_delete,
        name="document_delete",
    ),
    path(
        "documents/<int:document_pk>/download/",
        documents.document_download,
        name="document_download",
    ),
    path(
        "applications/<int:pk>/check-answers/",
        applications.check_answers,
        name="check_answers",
    ),
]

# The officers' workbench (PAGES.md "Officers"): staff only.
office_patterns = [
    path("", office.workbench, name="workbench"),
    path("cases/<int:pk>/", office.case, name="case"),
    path("cases/<int:pk>/actions/<slug:action>/", office.case_action, name="case_action"),
    path("documents/<int:pk>/", office.document, name="document"),
    # The site visit: recorded by the verifier in field verification, read by every officer.
    path("cases/<int:pk>/site-visit/", office_visits.site_visit, name="site_visit"),
    path(
        "cases/<int:pk>/site-visit/<int:visit_pk>/photos/",
        office_visits.site_visit_photo_add,
        name="site_visit_photo_add",
    ),
    path("site-visit-photos/<int:pk>/", office_visits.site_visit_photo, name="site_visit_photo"),
    # Finance: payout details, the transfer batch CSV, recording the bank's answer (issue 11).
    path("finance/", finance.payouts, name="finance"),
    path("finance/batch.csv", finance.batch, name="finance_batch"),
    path("finance/transfers/", finance.upload, name="finance_upload"),
    # The approver: bulk approve, confirmed, then a result per case (issue 11).
    path("approve/", approver.approve_selected, name="approve_selected"),
    path("approve/confirm/", approver.approve_confirmed, name="approve_confirmed"),
    # Background exports: asked for from the workbench, watched and downloaded here (issue 12).
    path("exports/", export_pages.exports, name="exports"),
    path("exports/new/", export_pages.export_new, name="export_new"),
    path("exports/<int:pk>/status/", export_pages.export_status, name="export_status"),
    path("exports/<int:pk>/download/", export_pages.export_download, name="export_download"),
    # Programme reports for staff and auditors (issue 12).
    path("reports/", reports.report, name="report"),
    path("reports/<slug:slug>.csv", reports.report_csv, name="report_csv"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("eligibility-check/", views.eligibility_check, name="eligibility_check"),
    path("statistics/", reports.statistics_page, name="statistics"),
    path("statistics/<slug:slug>.csv", reports.statistics_csv, name="statistics_csv"),
    path("", include((applicant_patterns, "applicant"))),
    path("office/", include((office_patterns, "office"))),
]
