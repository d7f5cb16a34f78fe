"""Every non-trivial read: what a user may see, the budget, the queue, the history."""

import datetime as dt
from functools import reduce
from operator import itemgetter, or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from accounts.roles import APPROVER, FINANCE, VERIFIER
from config.json_io import local_timestamps
from subsidy.access import applications_visible_to, sees_everything
from subsidy.audit import READ
from subsidy.engine import rules
from subsidy.models import (
    Application,
    AuditEntry,
    Company,
    Document,
    MachineItem,
    Notice,
    Programme,
    SiteVisit,
    SiteVisitPhoto,
)
from subsidy.workflow.transitions import CHECKLIST_ITEMS

User = get_user_model()


# What the API shows of an application and its items: the list reads nothing more (the
# breakdown, the checklist and the claim keys stay in the database).
_APPLICATION_COLUMNS = (
    "id",
    "reference",
    "programme_id",
    "company_id",
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
    "case_officer_id",
    "findings",
)
_ITEM_COLUMNS = ("id", "application_id", *MachineItem.INPUT_FIELDS, "rate", "discount", "findings")


def _related(model: type, key: str, field: str) -> Subquery:
    return Subquery(model.objects.filter(pk=OuterRef(key)).values(field)[:1])


def application_list(user) -> QuerySet[Application]:
    """The list and detail queryset: a constant number of queries whatever the page size."""
    return (
        applications_visible_to(user)
        .only(*_APPLICATION_COLUMNS)
        # Names of related rows as columns: no Company, Programme or User object per row.
        # Subqueries, not joins: the page's count drops unused annotations, but not joins,
        # and the joins made PostgreSQL count the matches ten times slower.
        .annotate(
            programme_year=_related(Programme, "programme_id", "year"),
            company_name=_related(Company, "company_id", "name"),
            case_officer_username=_related(User, "case_officer_id", "username"),
        )
        # A plain list per application (to_attr): Django would otherwise build a filtered
        # queryset for each of the page's applications just to hold its items.
        .prefetch_related(
            Prefetch(
                "items",
                queryset=MachineItem.objects.only(*_ITEM_COLUMNS).order_by("id"),
                to_attr="item_list",
            )
        )
    )


def documents_visible_to(user) -> QuerySet[Document]:
    return Document.objects.filter(application__in=applications_visible_to(user))


def current_programme(today: dt.date | None = None) -> Programme | None:
    """The programme of this year (Jakarta time), else the latest one; rates read with it."""
    today = today or timezone.localdate()
    programmes = Programme.objects.prefetch_related("rates").order_by("-year")
    return programmes.filter(year=today.year).first() or programmes.first()


def eligibility_check(
    programme: Programme,
    *,
    workers: int,
    investment_value: int,
    kbli: str,
    machines: list[rules.MachineFacts],
) -> rules.Computation:
    """The engine's rules on facts nobody stored: the public self-check (page and API)."""
    return rules.self_check(
        programme.terms(),
        workers=workers,
        investment_value=investment_value,
        kbli=kbli,
        machines=machines,
    )


def _committed_and_disbursed(programme_id: int) -> tuple[int, int]:
    totals = Application.objects.filter(programme_id=programme_id).aggregate(
        committed=Sum("approved_amount", filter=Q(status=Application.Status.APPROVED)),
        disbursed=Sum("disbursed_amount", filter=Q(status=Application.Status.DISBURSED)),
    )
    return totals["committed"] or 0, totals["disbursed"] or 0


def programme_spent(programme_id: int) -> int:
    """Committed (approved, not yet paid) plus disbursed Rupiah of a programme."""
    return sum(_committed_and_disbursed(programme_id))


def programme_budget(programme: Programme) -> dict[str, int]:
    """The budget meter: budget, committed, disbursed and what is still available."""
    committed, disbursed = _committed_and_disbursed(programme.pk)
    return {
        "budget": programme.budget,
        "committed": committed,
        "disbursed": disbursed,
        "available": programme.budget - committed - disbursed,
    }


# DOMAIN.md "Notices": whom a case waits on, by its state. A submitted case nobody has taken
# is every verifier's; under review, field verification, and submitted again after a revision
# (it keeps its case officer), its case officer's; recommended every approver's; approved
# every finance officer's.
CASE_OFFICER_STATUSES = (
    Application.Status.SUBMITTED,
    Application.Status.UNDER_REVIEW,
    Application.Status.FIELD_VERIFICATION,
)
QUEUE_ROLES = (VERIFIER, APPROVER, FINANCE)


def waiting_queue_parts(role: str, user: User) -> list[Q]:
    """The cases waiting on `user` in `role`, as disjoint conditions (none for a role without a
    queue); each one is one status, a single range of the index on (status, waiting since)."""
    if role == VERIFIER:
        return [
            Q(status=Application.Status.SUBMITTED, case_officer__isnull=True),
            *(Q(status=status, case_officer=user) for status in CASE_OFFICER_STATUSES),
        ]
    if role == APPROVER:
        return [Q(status=Application.Status.RECOMMENDED)]
    if role == FINANCE:
        return [Q(status=Application.Status.APPROVED)]
    return []


def _queue_conditions(user: User) -> list[Q]:
    return [
        part
        for role in QUEUE_ROLES
        if user.has_role(role)
        for part in waiting_queue_parts(role, user)
    ]


def _own_companies(user: User) -> list[int]:
    """The companies this user is a member of: none, for nearly every officer."""
    members = Company.members.through.objects.filter(user_id=user.pk)
    return list(members.values_list("company_id", flat=True))


def _not_own(queryset: QuerySet[Application], own: list[int]) -> QuerySet[Application]:
    # Its own company's cases wait on other officers: a member takes no officer action on them
    # (workflow.transitions.conflict_of_interest). Read once as ids, so that an officer of no
    # company (nearly all) has no anti-join in each part of the queue.
    return queryset.exclude(company__in=own) if own else queryset


def queue_parts(user: User) -> list[QuerySet[Application]]:
    """The user's queue as disjoint querysets, one per condition of every role they hold, each
    of one status: read apart, each is an index range the database orders and counts without
    sorting the whole queue (subsidy.web.paging.OrderedUnion); queue_for is their union."""
    conditions = _queue_conditions(user)
    own = _own_companies(user) if conditions else []
    return [_not_own(Application.objects.filter(part), own) for part in conditions]


def queue_for(user: User) -> QuerySet[Application]:
    """The cases waiting on this user in every role they hold, oldest waiting first."""
    conditions = _queue_conditions(user)
    if not conditions:
        return Application.objects.none()
    return (
        _not_own(Application.objects.filter(reduce(or_, conditions)), _own_companies(user))
        .select_related("company", "programme")
        .order_by("status_changed_at", "pk")
    )


def cases_past_service_level(user: User, now: dt.datetime | None = None) -> QuerySet[Application]:
    """The cases in this user's queue that have waited longer than CASE_SLA_DAYS."""
    limit = (now or timezone.now()) - dt.timedelta(days=settings.CASE_SLA_DAYS)
    return queue_for(user).filter(status_changed_at__lt=limit)


def application_history(application: Application) -> list[dict]:
    """Every transition, change and notice of an application, oldest first."""
    entries = [
        {
            "at": e.at,
            "actor": e.actor.username if e.actor_id else None,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "comment": e.comment,
            # The trail keeps UTC (its seal must not depend on the zone); answers use Jakarta.
            "changes": local_timestamps(
                {"object": e.object_type, "id": e.object_id, **e.changes}
                if e.object_type != "application"
                else e.changes
            ),
        }
        # Staff reads of its files are in the trail (services.reads), not in the case's story.
        for e in AuditEntry.objects.filter(application_id=application.pk)
        .exclude(action=READ)
        .select_related("actor")
    ]
    entries.extend(
        {
            "at": n.created_at,
            "actor": None,
            "action": "notice",
            "from_status": "",
            "to_status": "",
            "comment": n.title,
            "changes": {
                "kind": n.kind,
                "recipient": n.recipient.username,
                "delivery": n.status,
                "sent_at": timezone.localtime(n.sent_at).isoformat() if n.sent_at else None,
                "attempts": n.attempts,
                "error": n.last_error,
            },
        }
        for n in Notice.objects.filter(application=application).select_related("recipient")
    )
    return sorted(entries, key=itemgetter("at"))


def notifications_for(user) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=user).order_by("-created_at", "-id")


# --- Site visits ---------------------------------------------------------------------------


def site_visits_of(application: Application) -> QuerySet[SiteVisit]:
    """An application's visits, oldest first, each with its photos (two queries)."""
    return (
        SiteVisit.objects.filter(application=application)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("photos", queryset=SiteVisitPhoto.objects.order_by("id")))
        .order_by("visited_on", "id")
    )


def _latest_visits(application: Application) -> QuerySet[SiteVisit]:
    """The latest visit first: the one a recommendation without a checklist rests on."""
    return SiteVisit.objects.filter(application=application).order_by("-visited_on", "-id")


def latest_visit(application: Application) -> SiteVisit | None:
    return _latest_visits(application).first()


def latest_visit_checklist(application: Application) -> tuple[int, dict[str, bool]] | None:
    """(visit id, the four answers) of the latest recorded visit, or None before any."""
    visit = _latest_visits(application).values("id", *CHECKLIST_ITEMS).first()
    if visit is None:
        return None
    return visit["id"], {name: visit[name] for name in CHECKLIST_ITEMS}


def site_visit_photos_visible_to(user) -> QuerySet[SiteVisitPhoto]:
    """Photos of site visits: staff only (applicants see neither visits nor photos)."""
    if not sees_everything(user):
        return SiteVisitPhoto.objects.none()
    return SiteVisitPhoto.objects.all()


def unread_notice_count(user) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def application_page(user) -> QuerySet[Application]:
    """An application with what its applicant pages show: company, programme, machines and
    documents in a fixed number of queries whatever their count."""
    return (
        applications_visible_to(user)
        .select_related("company", "programme")
        .prefetch_related(
            Prefetch("items", queryset=MachineItem.objects.order_by("id"), to_attr="item_list"),
            Prefetch(
                "documents",
                queryset=Document.objects.select_related("item").order_by("kind", "id"),
                to_attr="document_list",
            ),
        )
    )


def revision_comment(history: list[dict]) -> str:
    """The officer's comment of the latest revision request in an application's history."""
    requests = [e for e in history if e["action"] == "request_revision"]
    return requests[-1]["comment"] if requests else ""
