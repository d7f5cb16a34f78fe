from django.urls import include, path

from . import companies, views

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
]

urlpatterns = [
    path("", views.home, name="home"),
    path("eligibility-check/", views.eligibility_check, name="eligibility_check"),
    path("", include((applicant_patterns, "applicant"))),
]
