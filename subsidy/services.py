"""Every write to programmes, companies, applications, items and documents.

Each service is atomic, validates before it stores, records what it changed in the audit
trail, and marks the refund results it invalidates as stale (DOMAIN.md, "stale").
"""

import hashlib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _

from accounts.roles import APPLICANT
from config.errors import ServiceError

from . import audit, computation, rules, validators
from .models import (
    Application,
    Company,
    Document,
    DocumentKind,
    MachineItem,
    Programme,
    ProgrammeRate,
    private_storage,
)

User = get_user_model()

PROGRAMME_FIELDS = [
    "year",
    "name",
    "application_opens",
    "application_closes",
    "purchase_from",
    "purchase_to",
    "install_by",
    "budget",
    "min_refund",
    "max_refund_per_company",
    "max_participations",
    "required_documents",
]
# Settings the computation reads: changing one makes every open application's results stale.
PROGRAMME_COMPUTED_FIELDS = {
    "purchase_from",
    "purchase_to",
    "install_by",
    "min_refund",
    "max_refund_per_company",
    "max_participations",
}
COMPANY_FIELDS = [
    "name",
    "nib",
    "npwp",
    "kbli",
    "workers",
    "investment_value",
    "province",
    "regency",
    "address",
    "bank_name",
    "bank_account_number",
    "bank_account_name",
]
COMPANY_COMPUTED_FIELDS = {"workers", "investment_value", "kbli"}
ITEM_FIELDS = [
    "description",
    "brand",
    "model",
    "serial_number",
    "origin",
    "supplier_name",
    "supplier_npwp",
    "invoice_number",
    "tax_invoice_number",
    "invoice_date",
    "price",
    "vat",
    "payment_method",
    "is_new",
    "installed_on",
]


def not_found() -> ServiceError:
    return ServiceError("not_found", _("Not found."))


# --- Who may write -------------------------------------------------------------------------


def require_superuser(by: User) -> None:
    if not by.is_superuser:
        raise ServiceError("forbidden", _("Only an administrator may change programmes."))


def can_see_company(company: Company, by: User) -> bool:
    if by.is_superuser or by.is_programme_staff:
        return True
    return company.members.filter(pk=by.pk).exists()


def require_member(company: Company, by: User) -> None:
    """Applicant of the company: others who can see it get 403, the rest 404 (API.md order)."""
    if by.has_role(APPLICANT) and company.members.filter(pk=by.pk).exists():
        return
    if can_see_company(company, by):
        raise ServiceError("forbidden", _("Only an applicant of the company may change its data."))
    raise not_found()


def require_editable(application: Application) -> None:
    if not application.is_editable:
        raise ServiceError(
            "invalid_transition",
            _("The application can be changed only while it is a draft or awaiting revision."),
            status=application.status,
        )


def _locked(application: Application) -> Application:
    """Re-read the application under a row lock so no transition slips in during an edit."""
    return Application.objects.select_for_update().get(pk=application.pk)


# --- Programmes ----------------------------------------------------------------------------


def _parse_rates(rates: object) -> dict[tuple[str, str], Decimal]:
    """Exactly one rate for each of the four (scale, origin) pairs, 0 < rate <= 1, 4 places."""
    message = _("Give exactly four rates: kecil and menengah, each domestic and imported.")
    if not isinstance(rates, list) or len(rates) != len(rules.RATED_PAIRS):
        raise ValidationError({"rates": [message]})
    parsed: dict[tuple[str, str], Decimal] = {}
    for entry in rates:
        if not isinstance(entry, Mapping):
            raise ValidationError({"rates": [message]})
        pair = (entry.get("scale"), entry.get("origin"))
        if pair not in rules.RATED_PAIRS or pair in parsed:
            raise ValidationError({"rates": [message]})
        try:
            rate = Decimal(str(entry.get("rate")))
        except (InvalidOperation, ValueError):
            rate = None
        if rate is None or not rate.is_finite() or rate != rate.quantize(Decimal("0.0001")):
            raise ValidationError({"rates": [_("A rate is a decimal with up to 4 places.")]})
        try:
            validators.rate(rate)
        except ValidationError as exc:
            raise ValidationError({"rates": exc.messages}) from None
        parsed[pair] = rate
    return parsed


def _programme_check(programme: Programme) -> None:
    """DOMAIN.md: windows in order, unique year, min_refund <= cap, budget >= what is spent."""
    errors: dict[str, list[str]] = {}
    for start, end in [
        ("application_opens", "application_closes"),
        ("purchase_from", "purchase_to"),
    ]:
        a, b = getattr(programme, start), getattr(programme, end)
        if a and b and a > b:
            errors.setdefault(end, []).append(_("The window ends before it starts."))
    if (
        programme.min_refund is not None
        and programme.max_refund_per_company is not None
        and programme.min_refund > programme.max_refund_per_company
    ):
        errors.setdefault("max_refund_per_company", []).append(
            _("The cap per company may not be below the minimum refund.")
        )
    if programme.pk:
        spent = programme_spent(programme.pk)
        if programme.budget is not None and programme.budget < spent:
            errors.setdefault("budget", []).append(
                _(
                    "The budget may not be lowered below what is committed "
                    "and disbursed (%(spent)s)."
                )
                % {"spent": spent}
            )
    try:
        programme.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def programme_spent(programme_id: int) -> int:
    """Committed (approved, not yet paid) plus disbursed Rupiah of a programme."""
    totals = Application.objects.filter(programme_id=programme_id).aggregate(
        committed=Sum("approved_amount", filter=Q(status=Application.Status.APPROVED)),
        disbursed=Sum("disbursed_amount", filter=Q(status=Application.Status.DISBURSED)),
    )
    return (totals["committed"] or 0) + (totals["disbursed"] or 0)


def _save_rates(programme: Programme, rates: dict[tuple[str, str], Decimal]) -> None:
    programme.rates.all().delete()
    ProgrammeRate.objects.bulk_create(
        ProgrammeRate(programme=programme, scale=scale, origin=origin, rate=rate)
        for (scale, origin), rate in rates.items()
    )


def _rates_plain(programme: Programme) -> dict:
    return {f"{r.scale}/{r.origin}": str(r.rate) for r in programme.rates.all()}


@transaction.atomic
def programme_create(*, by: User, rates: object, **fields: object) -> Programme:
    require_superuser(by)
    parsed = _parse_rates(rates)
    programme = Programme(**{k: v for k, v in fields.items() if k in PROGRAMME_FIELDS})
    _programme_check(programme)
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError:
        raise ValidationError({"year": [_("A programme for this year already exists.")]}) from None
    _save_rates(programme, parsed)
    audit.record(
        actor=by,
        action="create",
        object_type="programme",
        object_id=programme.pk,
        changes={
            **audit.diff({}, audit.snapshot(programme, PROGRAMME_FIELDS)),
            "rates": [None, _rates_plain(programme)],
        },
    )
    return programme


@transaction.atomic
def programme_update(
    *, programme: Programme, by: User, rates: object | None = None, **fields: object
) -> Programme:
    """Change a programme; a change the computation reads recomputes every open application."""
    require_superuser(by)
    # The budget check must see every approval: approvals lock this row too.
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    before = audit.snapshot(programme, PROGRAMME_FIELDS)
    rates_before = _rates_plain(programme)
    for name, value in fields.items():
        if name in PROGRAMME_FIELDS:
            setattr(programme, name, value)
    parsed = _parse_rates(rates) if rates is not None else None
    _programme_check(programme)
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError:
        raise ValidationError({"year": [_("A programme for this year already exists.")]}) from None
    if parsed is not None:
        _save_rates(programme, parsed)
    changes = audit.diff(before, audit.snapshot(programme, PROGRAMME_FIELDS))
    rates_after = _rates_plain(programme)
    if rates_after != rates_before:
        changes["rates"] = [rates_before, rates_after]
    if changes:
        if "rates" in changes or PROGRAMME_COMPUTED_FIELDS & changes.keys():
            programme_mark_stale(programme)
        audit.record(
            actor=by,
            action="update",
            object_type="programme",
            object_id=programme.pk,
            changes=changes,
        )
    return programme


def programme_mark_stale(programme: Programme) -> None:
    """Every open application's results go stale at once; one job recomputes them in bulk."""
    from .tasks import recompute_programme

    Application.objects.filter(programme=programme, status__in=Application.OPEN_STATUSES).update(
        computed_at=None, data_version=F("data_version") + 1
    )
    transaction.on_commit(lambda: recompute_programme.delay(programme.pk))


# --- Companies -----------------------------------------------------------------------------


def _company_clean_input(fields: dict) -> dict:
    data = {k: v for k, v in fields.items() if k in COMPANY_FIELDS}
    if "npwp" in data:
        data["npwp"] = validators.digits(data["npwp"] or "")
    if "nib" in data and not data["nib"]:
        data["nib"] = None
    return data


def _company_save(company: Company) -> None:
    company.full_clean(exclude=["members"])
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError:
        raise ValidationError(
            {"nib": [_("A company with this NIB is already registered.")]}
        ) from None


@transaction.atomic
def company_create(*, by: User, **fields: object) -> Company:
    """An applicant registers a company and becomes its first member."""
    if not by.has_role(APPLICANT):
        raise ServiceError("forbidden", _("Only applicants register companies."))
    company = Company(**_company_clean_input(fields))
    if company.nib and Company.objects.filter(nib=company.nib).exists():
        raise ValidationError(
            {"nib": [_("A company with this NIB is already registered: ask a member to add you.")]}
        )
    _company_save(company)
    company.members.add(by)
    audit.record(
        actor=by,
        action="create",
        object_type="company",
        object_id=company.pk,
        changes=audit.diff({}, audit.snapshot(company, COMPANY_FIELDS)),
    )
    return company


@transaction.atomic
def company_update(*, company: Company, by: User, **fields: object) -> Company:
    require_member(company, by)
    company = Company.objects.select_for_update().get(pk=company.pk)
    before = audit.snapshot(company, COMPANY_FIELDS)
    for name, value in _company_clean_input(fields).items():
        setattr(company, name, value)
    _company_save(company)
    changes = audit.diff(before, audit.snapshot(company, COMPANY_FIELDS))
    if changes:
        if COMPANY_COMPUTED_FIELDS & changes.keys():
            # Submitted applications use their snapshot; only editable ones follow the company.
            computation.mark_stale(
                company.applications.filter(status__in=Application.EDITABLE_STATUSES).values_list(
                    "pk", flat=True
                )
            )
        audit.record(
            actor=by,
            action="update",
            object_type="company",
            object_id=company.pk,
            changes=changes,
        )
    return company


@transaction.atomic
def company_add_member(*, company: Company, by: User, username: str) -> User:
    require_member(company, by)
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not user.has_role(APPLICANT):
        raise ValidationError({"username": [_("No applicant account has this username.")]})
    if company.members.filter(pk=user.pk).exists():
        raise ValidationError({"username": [_("This user is already a member of the company.")]})
    company.members.add(user)
    audit.record(
        actor=by,
        action="add_member",
        object_type="company",
        object_id=company.pk,
        changes={"members": [None, user.username]},
    )
    return user


# --- Applications, items, documents ----------------------------------------------------------


@transaction.atomic
def application_create(*, by: User, programme: Programme, company: Company) -> Application:
    """A draft may be created at any time; only one live application per company and programme."""
    require_member(company, by)
    if (
        Application.objects.filter(company=company, programme=programme)
        .exclude(status__in=Application.ENDED_STATUSES)
        .exists()
    ):
        raise ServiceError(
            "duplicate_application",
            _("This company already has an application in this programme."),
        )
    application = Application(programme=programme, company=company, created_by=by)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ServiceError(
            "duplicate_application",
            _("This company already has an application in this programme."),
        ) from None
    audit.record(
        actor=by,
        action="create",
        object_type="application",
        object_id=application.pk,
        application_id=application.pk,
        to_status=application.status,
        changes={"programme": [None, programme.pk], "company": [None, company.pk]},
    )
    computation.mark_stale([application.pk])
    return application


def _item_clean_input(fields: dict) -> dict:
    data = {k: v for k, v in fields.items() if k in ITEM_FIELDS}
    if "supplier_npwp" in data:
        data["supplier_npwp"] = validators.digits(data["supplier_npwp"] or "")
    return data


def _check_claim_keys(item: MachineItem) -> None:
    errors = {}
    if not rules.normalize_reference(item.invoice_number or ""):
        errors["invoice_number"] = [_("The invoice number needs letters or digits.")]
    if not rules.normalize_reference(item.serial_number or ""):
        errors["serial_number"] = [_("The serial number needs letters or digits.")]
    if errors:
        raise ValidationError(errors)


def _recompute_with_rivals(application: Application, keys: tuple[set, set]) -> None:
    rivals = computation.applications_sharing_claims(
        invoice_keys=keys[0], serial_keys=keys[1], exclude_application=application.pk
    )
    computation.mark_stale([application.pk, *rivals])


@transaction.atomic
def item_create(*, application: Application, by: User, **fields: object) -> MachineItem:
    require_member(application.company, by)
    application = _locked(application)
    require_editable(application)
    item = MachineItem(application=application, **_item_clean_input(fields))
    item.full_clean(exclude=["invoice_key", "serial_key", "rate", "discount", "findings"])
    _check_claim_keys(item)
    item.save()
    audit.record(
        actor=by,
        action="create",
        object_type="item",
        object_id=item.pk,
        application_id=application.pk,
        changes=audit.diff({}, audit.snapshot(item, ITEM_FIELDS)),
    )
    _recompute_with_rivals(application, ({item.invoice_key}, {item.serial_key}))
    return item


@transaction.atomic
def item_update(*, item: MachineItem, by: User, **fields: object) -> MachineItem:
    application = item.application
    require_member(application.company, by)
    application = _locked(application)
    require_editable(application)
    item = MachineItem.objects.get(pk=item.pk)
    before = audit.snapshot(item, ITEM_FIELDS)
    old_keys = (item.invoice_key, item.serial_key)
    for name, value in _item_clean_input(fields).items():
        setattr(item, name, value)
    item.full_clean(exclude=["invoice_key", "serial_key", "rate", "discount", "findings"])
    _check_claim_keys(item)
    item.save()
    changes = audit.diff(before, audit.snapshot(item, ITEM_FIELDS))
    if changes:
        audit.record(
            actor=by,
            action="update",
            object_type="item",
            object_id=item.pk,
            application_id=application.pk,
            changes=changes,
        )
        _recompute_with_rivals(
            application, ({old_keys[0], item.invoice_key}, {old_keys[1], item.serial_key})
        )
    return item


@transaction.atomic
def item_delete(*, item: MachineItem, by: User) -> None:
    application = item.application
    require_member(application.company, by)
    application = _locked(application)
    require_editable(application)
    keys = ({item.invoice_key}, {item.serial_key})
    before = audit.snapshot(item, ITEM_FIELDS)
    item_id = item.pk
    item.delete()
    audit.record(
        actor=by,
        action="delete",
        object_type="item",
        object_id=item_id,
        application_id=application.pk,
        changes={name: [value, None] for name, value in before.items()},
    )
    _recompute_with_rivals(application, keys)


# Magic numbers of the accepted formats: the content decides, never the file name.
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, suffix in _SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    return None


@transaction.atomic
def document_upload(
    *,
    application: Application,
    by: User,
    kind: str,
    file: UploadedFile,
    item: MachineItem | None = None,
) -> Document:
    require_member(application.company, by)
    application = _locked(application)
    require_editable(application)
    errors: dict[str, list[str]] = {}
    if kind not in DocumentKind.values:
        errors["kind"] = [_("Unknown document kind.")]
    if item is not None and item.application_id != application.pk:
        errors["item"] = [_("This item belongs to another application.")]
    if file.size is None or file.size == 0:
        errors["file"] = [_("The file is empty.")]
    elif file.size > settings.DOCUMENT_MAX_BYTES:
        errors["file"] = [
            _("The file is larger than %(mb)s MB.")
            % {"mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)}
        ]
    sniffed = None
    if "file" not in errors:
        file.seek(0)
        sniffed = sniff_content_type(file.read(16))
        if sniffed is None:
            errors["file"] = [_("Only PDF, JPEG or PNG files are accepted.")]
    if errors:
        raise ValidationError(errors)
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    content_type, suffix = sniffed
    document = Document(
        application=application,
        item=item,
        kind=kind,
        original_name=(file.name or "")[-255:],
        size=file.size,
        content_type=content_type,
        sha256=digest.hexdigest(),
        uploaded_by=by,
    )
    document.file.save(f"upload{suffix}", file, save=False)
    try:
        document.save()
        audit.record(
            actor=by,
            action="upload",
            object_type="document",
            object_id=document.pk,
            application_id=application.pk,
            changes={
                "kind": [None, kind],
                "item": [None, item.pk if item else None],
                "sha256": [None, document.sha256],
                "size": [None, document.size],
                "content_type": [None, content_type],
            },
        )
        computation.mark_stale([application.pk])
    except BaseException:
        # Nothing half-done: a refused or failed upload leaves no file behind.
        private_storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def document_delete(*, document: Document, by: User) -> None:
    application = document.application
    require_member(application.company, by)
    application = _locked(application)
    require_editable(application)
    name = document.file.name
    doc_id = document.pk
    changes = {"kind": [document.kind, None], "sha256": [document.sha256, None]}
    document.delete()
    audit.record(
        actor=by,
        action="delete",
        object_type="document",
        object_id=doc_id,
        application_id=application.pk,
        changes=changes,
    )
    transaction.on_commit(lambda: private_storage.delete(name))
    computation.mark_stale([application.pk])
