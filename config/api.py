"""API conventions of the contract: pagination and the error body {code, detail, ...}.

JSON parsing and rendering: json_io.py; answers outside the API's views: views.py.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import CsrfFailed, MfaRequired, ServiceError, csrf_failed_detail


def _whole_number_from_1(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) >= 1


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=`: whole numbers from 1 (anything else is a 400, as the schema
    says); a page size above 200 is capped, not refused."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request: Request, paginator: object) -> int | str:
        # A page that is not a whole number is a bad parameter (400); one past the end is 404.
        number = super().get_page_number(request, paginator)
        if isinstance(number, str) and not _whole_number_from_1(number):
            raise exceptions.ValidationError(
                {self.page_query_param: [_("A page is a whole number from 1.")]}
            )
        return number

    def get_page_size(self, request: Request) -> int:
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not _whole_number_from_1(text):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("A page size is a whole number from 1.")]}
            )
        return min(int(text), self.max_page_size)

    def get_schema_operation_parameters(self, view: object) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = _(
                    "Number of results per page (default %(default)s, at most %(max)s)."
                ) % {"default": self.page_size, "max": self.max_page_size}
        return parameters


def _flatten(detail) -> object:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) for value in detail]
    return str(detail)


def _validation_body(errors: dict | list) -> dict:
    if isinstance(errors, list):
        errors = {"non_field_errors": errors}
    return {
        "code": "invalid",
        "detail": _("The data sent is not valid; see the errors for each field."),
        "errors": _flatten(errors),
    }


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every refusal in the contract's shape; codes and statuses per API.md."""
    if isinstance(exc, ServiceError):
        response = Response(exc.as_dict(), status=exc.status)
        if "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, MfaRequired):
        return Response({"code": "mfa_required", "detail": str(exc.detail)}, status=403)
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(_validation_body(errors), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
        return response
    codes = {
        exceptions.NotAuthenticated: (
            "not_authenticated",
            _("Authentication credentials were not provided."),
        ),
        exceptions.AuthenticationFailed: ("not_authenticated", _("The credentials are not valid.")),
        CsrfFailed: ("csrf_failed", csrf_failed_detail()),
        exceptions.PermissionDenied: ("forbidden", _("Your role may not do this.")),
        exceptions.NotFound: ("not_found", _("Not found.")),
        exceptions.Throttled: ("throttled", _("Too many requests; please wait and try again.")),
        exceptions.ParseError: ("invalid", _("The request body could not be read.")),
        exceptions.UnsupportedMediaType: ("invalid", _("This content type is not accepted.")),
        exceptions.MethodNotAllowed: ("method_not_allowed", _("This method is not allowed here.")),
        exceptions.NotAcceptable: ("not_acceptable", _("This response format is not available.")),
    }
    for klass, (code, detail) in codes.items():
        if isinstance(exc, klass):
            body = {"code": code, "detail": str(detail)}
            if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
                body["retry_after"] = int(exc.wait)
            if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
                body["errors"] = {"non_field_errors": [str(exc.detail)]}
                # A body the API cannot read is invalid input: the contract's 400, not 415.
                response.status_code = 400
            response.data = body
            return response
    response.data = {"code": "error", "detail": str(getattr(exc, "detail", exc))}
    return response


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(
            help_text="Machine code: invalid, forbidden, four_eyes, conflict_of_interest, ..."
        ),
        "detail": serializers.CharField(help_text="A sentence in the caller's language."),
        "errors": serializers.DictField(
            required=False,
            help_text="code invalid: the messages of each field (a list, or nested for a list "
            "or object field).",
        ),
        "missing": serializers.ListField(
            child=serializers.CharField(), required=False, help_text="code incomplete."
        ),
        "status": serializers.CharField(
            required=False, help_text="code invalid_transition: the application's status."
        ),
        "available": serializers.IntegerField(
            required=False, help_text="code budget_exhausted: Rupiah left in the budget."
        ),
        "retry_after": serializers.IntegerField(
            required=False, help_text="codes throttled and locked_out: seconds to wait."
        ),
    },
)

ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input (code invalid)."),
    401: OpenApiResponse(ErrorSerializer, description="No or bad credentials."),
    403: OpenApiResponse(
        ErrorSerializer,
        description="Role may not do this (forbidden, four_eyes, conflict_of_interest), a "
        "session without its CSRF token (csrf_failed), or staff without their second factor "
        "(mfa_required).",
    ),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not yours."),
    409: OpenApiResponse(ErrorSerializer, description="The state forbids it."),
    429: OpenApiResponse(
        ErrorSerializer,
        description="Throttled (throttled), or a username locked after 5 failed log-ins in 15 "
        "minutes (locked_out); retry_after says how many seconds to wait.",
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The refusals one operation can give, for its schema."""
    return {code: ERROR_RESPONSES[code] for code in codes}


# Reads: no credentials, or not visible; lists also refuse a bad filter or page (400).
READ_ERRORS = error_responses(401, 404)
# A file download of the documents' storage (subsidy.files.file_response) with a bucket and
# DOCUMENTS_S3_REDIRECT: the permission check passed, the store serves the bytes.
REDIRECT_TO_STORE = {
    302: OpenApiResponse(
        description="Only with DOCUMENTS_S3_REDIRECT: Location is a signed URL of the store, "
        "valid DOCUMENTS_S3_URL_SECONDS, that answers the file under the same name and type."
    )
}
LIST_ERRORS = error_responses(400, 401, 404)
