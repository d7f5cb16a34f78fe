"""The project's URLs plus the benchmark's limit: the same page, built by hand (bench only).

The limit answers GET /bench/limit/applications/ with the page the API's application list
gives for the same filters: the same rows, fields, nested items and finding texts, the count
and the links, built from .values() and returned with JsonResponse. It authenticates the
token and checks the staff role with the same queries the API runs, and nothing else.
"""

from collections import defaultdict

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import token_hash
from config.urls import urlpatterns as project_urlpatterns
from subsidy.engine import rules
from subsidy.findings import finding_detail
from subsidy.models import Application, MachineItem

APPLICATION_FIELDS = (
    "id",
    "reference",
    "programme_id",
    "programme__year",
    "company_id",
    "company__name",
    "status",
    "scale",
    "created_at",
    "submitted_at",
    "eligible_total",
    "computed_discount",
    "computed_at",
    "approved_amount",
    "disbursed_amount",
    "company_snapshot",
    "transfer_reference",
    "transferred_on",
    "case_officer__username",
    "findings",
)
ITEM_FIELDS = ("id", "application_id", *MachineItem.INPUT_FIELDS, "rate", "discount", "findings")


def _local(value):
    return timezone.localtime(value).isoformat() if value else None


def limit_applications(request: HttpRequest) -> JsonResponse:
    key = request.headers.get("Authorization", "").removeprefix("Token ")
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
    if token is None or not token.is_live() or not token.user.is_programme_staff:
        return JsonResponse({"code": "forbidden"}, status=403)
    size = min(int(request.GET.get("page_size", 20)), 200)
    page = int(request.GET.get("page", 1))
    rows = Application.objects.order_by("-id")
    if "status" in request.GET:
        rows = rows.filter(status__in=request.GET.getlist("status"))
    if "province" in request.GET:
        rows = rows.filter(company__province=request.GET["province"])
    count = rows.count()
    apps = list(rows.values(*APPLICATION_FIELDS)[(page - 1) * size : page * size])
    items = defaultdict(list)
    for item in (
        MachineItem.objects.filter(application_id__in=[a["id"] for a in apps])
        .order_by("id")
        .values(*ITEM_FIELDS)
    ):
        application_id = item.pop("application_id")
        item["invoice_date"] = item["invoice_date"].isoformat()
        item["installed_on"] = item["installed_on"] and item["installed_on"].isoformat()
        item["rate"] = rules.rate_text(item["rate"]) if item["rate"] is not None else None
        item["findings"] = [
            {"code": f["code"], "detail": finding_detail(f["code"])} for f in item["findings"]
        ]
        items[application_id].append(item)
    results = []
    for a in apps:
        snapshot = a.pop("company_snapshot") or {}
        results.append(
            {
                "id": a["id"],
                "reference": a["reference"],
                "programme": a["programme_id"],
                "programme_year": a["programme__year"],
                "company": a["company_id"],
                "company_name": a["company__name"],
                "status": a["status"],
                "scale": a["scale"],
                "created_at": _local(a["created_at"]),
                "submitted_at": _local(a["submitted_at"]),
                "eligible_total": a["eligible_total"],
                "computed_discount": a["computed_discount"],
                "computed_at": _local(a["computed_at"]),
                "approved_amount": a["approved_amount"],
                "disbursed_amount": a["disbursed_amount"],
                "payout_bank_name": snapshot.get("bank_name", ""),
                "payout_account_number": snapshot.get("bank_account_number", ""),
                "payout_account_name": snapshot.get("bank_account_name", ""),
                "transfer_reference": a["transfer_reference"],
                "transferred_on": a["transferred_on"] and a["transferred_on"].isoformat(),
                "case_officer": a["case_officer__username"],
                "findings": [
                    {"code": f["code"], "item": f.get("item"), "detail": finding_detail(f["code"])}
                    for f in a["findings"]
                ],
                "items": items[a["id"]],
            }
        )
    base = request.build_absolute_uri(request.path)
    query = request.GET.copy()
    links = {}
    for name, number, exists in (
        ("next", page + 1, page * size < count),
        ("previous", page - 1, page > 1),
    ):
        query["page"] = number
        links[name] = f"{base}?{query.urlencode()}" if exists else None
    return JsonResponse({"count": count, **links, "results": results})


urlpatterns = [
    path("bench/limit/applications/", limit_applications),
    *project_urlpatterns,
]
