from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import error_responses
from config.errors import ServiceError
from config.throttles import ScopedRateThrottle

from .lockout import locked_until, lockout_message, retry_after
from .serializers import (
    MeSerializer,
    MeUpdateSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from .services import user_register_applicant, user_update_profile


class TokenApi(APIView):
    """Exchange a username and password for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # With the request, so django-axes counts the failure and refuses a locked username.
        user = authenticate(
            request=request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None and getattr(request, "axes_locked_out", False):
            until = locked_until(request, {"username": data.validated_data["username"]})
            raise ServiceError("locked_out", lockout_message(until), retry_after=retry_after(until))
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("The username or password is wrong.")]}
            )
        # A token is a log-in: django-axes clears the username's failures (and last_login moves).
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class RegisterApi(APIView):
    """Self-registration of an IKM applicant account."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        request=RegisterSerializer,
        responses={201: RegisteredSerializer, **error_responses(400, 429)},
        auth=[],
        tags=["auth"],
        description="Creates an applicant account and mails a link to verify the address. An "
        "address another account holds gets the same answer (its owner is told by e-mail), so "
        "the answer never tells whether an account exists.",
    )
    def post(self, request: Request) -> Response:
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_register_applicant(request=request._request, **data.validated_data)
        body = {
            "username": data.validated_data["username"],
            "email": data.validated_data["email"],
            "detail": _(
                "Check your e-mail: we have sent a message to %(email)s. Follow its link to "
                "verify the address."
            )
            % {"email": data.validated_data["email"]},
        }
        return Response(RegisteredSerializer(body).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    """The signed-in user: roles, companies, e-mail and language."""

    @extend_schema(responses={200: MeSerializer, **error_responses(401)}, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(400, 401)},
        tags=["auth"],
    )
    def patch(self, request: Request) -> Response:
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_update_profile(user=request.user, **data.validated_data)
        return Response(MeSerializer(user).data)
