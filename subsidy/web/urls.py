from django.urls import include, path

from . import views

applicant_patterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("eligibility-check/", views.eligibility_check, name="eligibility_check"),
    path("", include((applicant_patterns, "applicant"))),
]
