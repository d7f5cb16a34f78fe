from django.urls import path

from .apis import ApiTokenDetailApi, ApiTokenListApi, MeApi, RegisterApi, TokenApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("auth/tokens/", ApiTokenListApi.as_view(), name="auth-tokens"),
    path("auth/tokens/<int:pk>/", ApiTokenDetailApi.as_view(), name="auth-token-detail"),
    path("auth/register/", RegisterApi.as_view(), name="auth-register"),
    path("me/", MeApi.as_view(), name="me"),
]
