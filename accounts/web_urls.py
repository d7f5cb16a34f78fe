"""Account pages: django-allauth's (sign-up, log-in, e-mail, password) and the profile."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("profile/", views.profile, name="account_profile"),
    path("", include("allauth.urls")),
]
