from django.urls import include, path

from . import office, views

applicant_patterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
]

# The officers' workbench (PAGES.md "Officers"): staff only.
office_patterns = [
    path("", office.workbench, name="workbench"),
    path("cases/<int:pk>/", office.case, name="case"),
    path("cases/<int:pk>/actions/<slug:action>/", office.case_action, name="case_action"),
    path("documents/<int:pk>/", office.document, name="document"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("eligibility-check/", views.eligibility_check, name="eligibility_check"),
    path("", include((applicant_patterns, "applicant"))),
    path("office/", include((office_patterns, "office"))),
]
