"""Finance's pages (PAGES.md "Officers"): payout details of approved cases, the transfer
batch CSV of the selected cases, and recording the bank's answer by uploading a CSV.

Thin: the cases are the finance queue (selectors.queue_for), the CSV in and out is
subsidy.services.transfers, and each transfer is recorded by the workflow's own service.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from config.errors import ServiceError
from subsidy import selectors
from subsidy.models import Application
from subsidy.services import transfers
from subsidy.workflow import transitions

from .finance_forms import TransferUploadForm
from .office import staff_only

User = get_user_model()
S = Application.Status
# Who records a transfer is the workflow table's answer for `disburse`, not a copy of it.
DISBURSE_ROLES = frozenset(t.role for t in transitions.TRANSITIONS if t.action == "disburse")


def _require_finance(user: User) -> None:
    if not any(user.has_role(role) for role in DISBURSE_ROLES):
        raise PermissionDenied


def _payouts(user: User):
    """The approved cases waiting on this finance officer, oldest approved first."""
    return (
        selectors.queue_for(user)
        .filter(status=S.APPROVED)
        .select_related("company")
        .order_by("status_changed_at", "pk")
    )


def _render(request: HttpRequest, form: TransferUploadForm, **extra: object) -> HttpResponse:
    status = extra.pop("status", 200)
    context = {
        "payouts": [{"application": a, **transfers.payout_row(a)} for a in _payouts(request.user)],
        "form": form,
        **extra,
    }
    return render(request, "office/finance_payouts.html", context, status=status)


@staff_only
@require_GET
def payouts(request: HttpRequest) -> HttpResponse:
    """`/office/finance/`: payout details of approved cases, to select for a transfer batch."""
    _require_finance(request.user)
    return _render(request, TransferUploadForm())


@staff_only
@require_GET
def batch(request: HttpRequest) -> HttpResponse:
    """The transfer batch CSV of the selected approved cases (UTF-8 with BOM)."""
    _require_finance(request.user)
    ids = [v for v in request.GET.getlist("case") if v.isdigit()]
    selected = _payouts(request.user).filter(pk__in=ids) if ids else None
    if not selected:
        form = TransferUploadForm()
        return _render(
            request, form, batch_error=_("Select at least one approved case."), status=400
        )
    body = transfers.transfer_batch_csv(selected)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="transfer-batch-{stamp}.csv"'
    return response


@staff_only
@require_http_methods(["POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Record transfers from the bank's CSV; the result of every row on the page."""
    _require_finance(request.user)
    form = TransferUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form, status=400)
    try:
        results = transfers.transfers_record_csv(file=form.cleaned_data["file"], by=request.user)
    except ServiceError as error:
        form.add_error("file", str(error.detail))
        return _render(request, form, status=400)
    return _render(
        request,
        TransferUploadForm(),
        results=results,
        recorded=sum(1 for r in results if r.recorded),
        refused=sum(1 for r in results if not r.recorded),
    )
