from django.contrib.auth import authenticate, user_logged_in
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LIST_ERRORS, ErrorSerializer, error_responses
from config.errors import MfaRequired, ServiceError
from config.throttles import ScopedRateThrottle

from .authentication import mfa_required_detail
from .lockout import locked_until, lockout_message, retry_after
from .models import ApiToken
from .second_factor import check_code, has_second_factor
from .serializers import (
    ApiTokenSerializer,
    MeSerializer,
    MeUpdateSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    SessionTokenSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from .services import (
    api_token_create,
    api_token_revoke,
    awaits_email_verification,
    credentials_refused_message,
    resend_verification,
    user_register_applicant,
    user_update_profile,
)


class TokenApi(APIView):
    """Exchange a username, password and (staff) second-factor code for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            **error_responses(400),
            403: OpenApiResponse(
                ErrorSerializer,
                description="The user needs a second factor and gave no valid code (or has "
                "none set up yet): code mfa_required.",
            ),
            **error_responses(429),
        },
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
        if user is not None and awaits_email_verification(user):
            resend_verification(user=user, request=request._request)
            user = None
        if user is None:
            raise serializers.ValidationError({"non_field_errors": [credentials_refused_message()]})
        enrolled = has_second_factor(user)
        if user.needs_second_factor and not enrolled:
            translation.activate(user.language)
            raise MfaRequired(mfa_required_detail())
        if enrolled:
            code = data.validated_data.get("otp", "")
            if not code or not check_code(user, code):
                translation.activate(user.language)
                raise MfaRequired(
                    _(
                        "Send the current code of your authenticator app, or an unused recovery "
                        "code, as otp."
                    )
                    if not code
                    else _("The second-factor code is wrong or was already used.")
                )
        # A token is a log-in: django-axes clears the username's failures (and last_login moves).
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response({"token": api_token_create(user=user).secret})


class ApiTokenListApi(ListAPIView):
    """The signed-in user's API tokens, newest first (their secrets are never shown again);
    POST makes one for the browser session, which logging out of it revokes."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # for the schema; the owner's rows come from below

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(responses={200: ApiTokenSerializer(many=True), **LIST_ERRORS}, tags=["auth"])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={201: SessionTokenSerializer, **error_responses(401, 403)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            raise exceptions.PermissionDenied()
        issued = api_token_create(user=request.user, session_key=request.session.session_key)
        return Response(
            {"token": issued.secret, **ApiTokenSerializer(issued.token).data},
            status=status.HTTP_201_CREATED,
        )


class ApiTokenDetailApi(APIView):
    """Revoke one of the signed-in user's tokens (another user's is not found)."""

    @extend_schema(responses={204: None, **error_responses(401, 404)}, tags=["auth"])
    def delete(self, request: Request, pk: int) -> Response:
        token = ApiToken.objects.filter(user=request.user, pk=pk).first()
        if token is None:
            raise exceptions.NotFound()
        api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
