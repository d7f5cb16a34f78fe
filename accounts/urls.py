from django.urls import path

from .apis import MeApi, RegisterApi, TokenApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("auth/register/", RegisterApi.as_view(), name="auth-register"),
    path("me/", MeApi.as_view(), name="me"),
]
