"""Every write to programmes, companies, applications, items and documents.

Each service is atomic, validates before it stores, marks the refund results it invalidates
as stale (DOMAIN.md, "stale"), and records what it changed in the audit trail, last: the
trail's head row stays locked until commit, so no application row is waited for after it.
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
from django.template.defaultfilters import filesizeformat
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
# The year orders programmes, and "earlier programmes" decide participation_limit_reached.
PROGRAMME_COMPUTED_FIELDS = {
    "year",
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
# Money and counts: Django's IntegerField would truncate 1.5 to 1 instead of refusing it.
PROGRAMME_WHOLE_NUMBERS = ("year", "budget", "min_refund", "max_refund_per_company")
COMPANY_WHOLE_NUMBERS = ("workers", "investment_value")
ITEM_WHOLE_NUMBERS = ("price", "vat")
# Written by the computation only, never taken from input.
ITEM_RESULT_FIELDS = ["invoice_key", "serial_key", "rate", "discount", "findings"]
# What an applicant types for a machine; the rest of an item is derived or computed.
ITEM_FIELDS = list(MachineItem.INPUT_FIELDS)


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


def _whole_number_errors(data: Mapping[str, object], names: tuple[str, ...]) -> dict:
    errors: dict[str, list[str]] = {}
    for name in names:
        if name in data:
            try:
                validators.whole_number(data[name])
            except ValidationError as exc:
                errors[name] = exc.messages
    return errors


def _full_clean(instance: object, errors: dict, **kwargs: object) -> None:
    """full_clean, reporting the errors found before it too: every field's problem at once."""
    errors = {name: list(messages) for name, messages in errors.items()}
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            # A value refused already (1.5) is not reported twice as Django's truncation.
            if name not in errors:
                errors[name] = messages
    if errors:
        raise ValidationError(errors)


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
            # quantize() itself refuses a value too large for the context ("1E+30").
            exact = rate.is_finite() and rate == rate.quantize(Decimal("0.0001"))
        except (InvalidOperation, ValueError):
            exact = False
        if not exact:
            raise ValidationError({"rates": [_("A rate is a decimal with up to 4 places.")]})
        try:
            validators.rate(rate)
        except ValidationError as exc:
            raise ValidationError({"rates": exc.messages}) from None
        parsed[pair] = rate
    return parsed


def _programme_check(programme: Programme, errors: dict[str, list[str]]) -> None:
    """DOMAIN.md: windows in order, unique year, min_refund <= cap, budget >= what is spent."""
    errors = {name: list(messages) for name, messages in errors.items()}
    # Field checks first: full_clean turns "2026-04-01" into a date, so the comparisons
    # below only ever see values of the right type (a bad one is reported, not a 500).
    try:
        programme.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field not in PROGRAMME_WHOLE_NUMBERS or field not in errors:
                errors.setdefault(field, []).extend(messages)

    def valid(*names: str) -> bool:
        return not any(name in errors for name in names)

    for start, end in [
        ("application_opens", "application_closes"),
        ("purchase_from", "purchase_to"),
    ]:
        if valid(start, end) and getattr(programme, start) > getattr(programme, end):
            errors.setdefault(end, []).append(_("The window ends before it starts."))
    if (
        valid("min_refund", "max_refund_per_company")
        and programme.min_refund > programme.max_refund_per_company
    ):
        errors.setdefault("max_refund_per_company", []).append(
            _("The cap per company may not be below the minimum refund.")
        )
    if programme.pk and valid("budget"):
        spent = programme_spent(programme.pk)
        if programme.budget < spent:
            errors.setdefault("budget", []).append(
                _(
                    "The budget may not be lowered below what is committed "
                    "and disbursed (%(spent)s)."
                )
                % {"spent": spent}
            )
    if errors:
        raise ValidationError(errors)


def _programme_input_errors(
    rates: object, fields: Mapping[str, object], *, required: bool
) -> tuple[dict, dict]:
    """Parse the rates (when given or required) and check whole numbers: (rates, errors)."""
    errors = _whole_number_errors(fields, PROGRAMME_WHOLE_NUMBERS)
    parsed: dict = {}
    if rates is not None or required:
        try:
            parsed = _parse_rates(rates)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    return parsed, errors


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
    # A new programme needs its four rates: None is parsed (and refused) like any bad list.
    parsed, errors = _programme_input_errors(rates, fields, required=True)
    programme = Programme(**{k: v for k, v in fields.items() if k in PROGRAMME_FIELDS})
    _programme_check(programme, errors)
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
    parsed, errors = _programme_input_errors(rates, fields, required=False)
    _programme_check(programme, errors)
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError:
        raise ValidationError({"year": [_("A programme for this year already exists.")]}) from None
    if rates is not None:
        _save_rates(programme, parsed)
    changes = audit.diff(before, audit.snapshot(programme, PROGRAMME_FIELDS))
    rates_after = _rates_plain(programme)
    if rates_after != rates_before:
        changes["rates"] = [rates_before, rates_after]
    if changes:
        if "rates" in changes or PROGRAMME_COMPUTED_FIELDS & changes.keys():
            programme_mark_stale(programme)
        if "year" in changes:
            # Moving the programme in time also moves its disbursed cases in or out of the
            # "earlier programmes" that other programmes' applications count.
            computation.mark_stale(
                Application.objects.filter(
                    status__in=Application.OPEN_STATUSES,
                    company__applications__programme=programme,
                    company__applications__status=Application.Status.DISBURSED,
                )
                .exclude(programme=programme)
                .values_list("pk", flat=True)
            )
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

    computation.lock_in_order(
        Application.objects.filter(programme=programme, status__in=Application.OPEN_STATUSES)
    ).update(computed_at=None, data_version=F("data_version") + 1)
    transaction.on_commit(lambda: recompute_programme.delay(programme.pk))


# --- Companies -----------------------------------------------------------------------------


def _company_clean_input(fields: dict) -> dict:
    data = {k: v for k, v in fields.items() if k in COMPANY_FIELDS}
    if "npwp" in data:
        data["npwp"] = validators.digits(data["npwp"] or "")
    if "nib" in data and not data["nib"]:
        data["nib"] = None
    return data


def _company_save(company: Company, errors: dict) -> None:
    _full_clean(company, errors, exclude=["members"])
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
    data = _company_clean_input(fields)
    company = Company(**data)
    if company.nib and Company.objects.filter(nib=company.nib).exists():
        raise ValidationError(
            {"nib": [_("A company with this NIB is already registered: ask a member to add you.")]}
        )
    _company_save(company, _whole_number_errors(data, COMPANY_WHOLE_NUMBERS))
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
    data = _company_clean_input(fields)
    for name, value in data.items():
        setattr(company, name, value)
    _company_save(company, _whole_number_errors(data, COMPANY_WHOLE_NUMBERS))
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
    computation.mark_stale([application.pk])
    audit.record(
        actor=by,
        action="create",
        object_type="application",
        object_id=application.pk,
        application_id=application.pk,
        to_status=application.status,
        changes={"programme": [None, programme.pk], "company": [None, company.pk]},
    )
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


def _item_keys(item: MachineItem) -> tuple[str, str]:
    """The claim keys the item will be saved with (MachineItem.save derives them)."""
    return (
        rules.invoice_key(item.supplier_npwp, item.invoice_number),
        rules.serial_key(item.serial_number),
    )


def _rivals(application: Application, keys: tuple[set, set]) -> list[int]:
    computation.lock_claim_keys(invoice_keys=keys[0], serial_keys=keys[1])
    return computation.applications_sharing_claims(
        invoice_keys=keys[0], serial_keys=keys[1], exclude_application=application.pk
    )


def _lock_with(application: Application, others: list[int]) -> Application:
    """Lock the application (no transition slips in during an edit) and those it makes stale.

    Two applicants editing items that share an invoice each lock their own application and
    then mark the other's stale; taking every row in id order makes the second wait for the
    first instead of the two deadlocking.
    """
    ids = sorted({application.pk, *others})
    rows = Application.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}[application.pk]


def _recompute_with_rivals(application: Application, keys: tuple[set, set]) -> None:
    computation.mark_stale([application.pk, *_rivals(application, keys)])


def _validated_item(item: MachineItem, data: dict) -> MachineItem:
    for name, value in data.items():
        setattr(item, name, value)
    _full_clean(item, _whole_number_errors(data, ITEM_WHOLE_NUMBERS), exclude=ITEM_RESULT_FIELDS)
    _check_claim_keys(item)
    return item


# The item services check in the contract's order: 404/403 (member), 400 (the data), then 409
# (the application's state, read under the lock).


@transaction.atomic
def item_create(*, application: Application, by: User, **fields: object) -> MachineItem:
    require_member(application.company, by)
    item = _validated_item(MachineItem(application=application), _item_clean_input(fields))
    keys = _item_keys(item)
    application = _lock_with(application, _rivals(application, ({keys[0]}, {keys[1]})))
    require_editable(application)
    item.application = application
    item.save()
    _recompute_with_rivals(application, ({item.invoice_key}, {item.serial_key}))
    audit.record(
        actor=by,
        action="create",
        object_type="item",
        object_id=item.pk,
        application_id=application.pk,
        changes=audit.diff({}, audit.snapshot(item, ITEM_FIELDS)),
    )
    return item


@transaction.atomic
def item_update(*, item: MachineItem, by: User, **fields: object) -> MachineItem:
    application = item.application
    require_member(application.company, by)
    data = _item_clean_input(fields)
    draft = MachineItem.objects.filter(pk=item.pk).first()
    if draft is None:
        raise not_found()
    old_keys = (draft.invoice_key, draft.serial_key)
    new_keys = _item_keys(_validated_item(draft, data))
    moved = new_keys != old_keys
    application = _lock_with(
        application,
        _rivals(application, ({old_keys[0], new_keys[0]}, {old_keys[1], new_keys[1]}))
        if moved
        else [],
    )
    require_editable(application)
    # Read again under the lock: the item may have changed between the check and the lock.
    item = MachineItem.objects.filter(pk=item.pk, application=application).first()
    if item is None:
        raise not_found()
    before = audit.snapshot(item, ITEM_FIELDS)
    old_keys = (item.invoice_key, item.serial_key)
    _validated_item(item, data)
    item.save()
    changes = audit.diff(before, audit.snapshot(item, ITEM_FIELDS))
    if changes:
        new_keys = (item.invoice_key, item.serial_key)
        # Claims depend only on the keys and the applications' submission order, not on
        # price or dates: rivals are recomputed only when a key moves, on both the old and
        # the new key's side (the old rival may win now, the new one may lose).
        if new_keys != old_keys:
            _recompute_with_rivals(
                application, ({old_keys[0], new_keys[0]}, {old_keys[1], new_keys[1]})
            )
        else:
            computation.mark_stale([application.pk])
        audit.record(
            actor=by,
            action="update",
            object_type="item",
            object_id=item.pk,
            application_id=application.pk,
            changes=changes,
        )
    return item


@transaction.atomic
def item_delete(*, item: MachineItem, by: User) -> None:
    application = item.application
    require_member(application.company, by)
    keys = ({item.invoice_key}, {item.serial_key})
    application = _lock_with(application, _rivals(application, keys))
    require_editable(application)
    item = MachineItem.objects.filter(pk=item.pk, application=application).first()
    if item is None:
        raise not_found()
    keys = ({item.invoice_key}, {item.serial_key})
    before = audit.snapshot(item, ITEM_FIELDS)
    item_id = item.pk
    item.delete()
    _recompute_with_rivals(application, keys)
    audit.record(
        actor=by,
        action="delete",
        object_type="item",
        object_id=item_id,
        application_id=application.pk,
        changes={name: [value, None] for name, value in before.items()},
    )


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


def _upload_errors(
    application: Application, kind: str, file: UploadedFile, item: MachineItem | None
) -> tuple[dict[str, list[str]], tuple[str, str] | None]:
    """The 400s of an upload: kind, item, size and a content that is PDF, JPEG or PNG."""
    errors: dict[str, list[str]] = {}
    if kind not in DocumentKind.values:
        errors["kind"] = [_("Unknown document kind.")]
    if item is not None and item.application_id != application.pk:
        errors["item"] = [_("This item belongs to another application.")]
    if file.size is None or file.size == 0:
        errors["file"] = [_("The file is empty.")]
    elif file.size > settings.DOCUMENT_MAX_BYTES:
        errors["file"] = [
            _("The file is larger than %(limit)s.")
            % {"limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)}
        ]
    sniffed = None
    if "file" not in errors:
        file.seek(0)
        sniffed = sniff_content_type(file.read(16))
        if sniffed is None:
            errors["file"] = [_("Only PDF, JPEG or PNG files are accepted.")]
    return errors, sniffed


def _sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


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
    errors, sniffed = _upload_errors(application, kind, file, item)
    if errors:
        raise ValidationError(errors)
    sha256 = _sha256(file)
    application = _lock_with(application, _document_twins(application, sha256))
    require_editable(application)
    content_type, suffix = sniffed
    document = Document(
        application=application,
        item=item,
        kind=kind,
        original_name=(file.name or "")[-255:],
        size=file.size,
        content_type=content_type,
        sha256=sha256,
        uploaded_by=by,
    )
    # The stored name is random (models.document_path); the suffix follows the content.
    document.file.save(f"upload{suffix}", file, save=False)
    try:
        document.save()
        _mark_with_document_twins(application, document.sha256)
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
    except BaseException:
        # Nothing half-done: a refused or failed upload leaves no file behind.
        private_storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def document_delete(*, document: Document, by: User) -> None:
    application = document.application
    require_member(application.company, by)
    application = _lock_with(application, _document_twins(application, document.sha256))
    require_editable(application)
    name = document.file.name
    doc_id = document.pk
    changes = {"kind": [document.kind, None], "sha256": [document.sha256, None]}
    document.delete()
    _mark_with_document_twins(application, changes["sha256"][0])
    # The file goes only once the row is gone for good: a rolled-back delete keeps both.
    transaction.on_commit(lambda: private_storage.delete(name))
    audit.record(
        actor=by,
        action="delete",
        object_type="document",
        object_id=doc_id,
        application_id=application.pk,
        changes=changes,
    )


def _document_twins(application: Application, sha256: str) -> list[int]:
    return computation.applications_sharing_documents(
        sha256s=[sha256], exclude_company=application.company_id
    )


def _mark_with_document_twins(application: Application, sha256: str) -> None:
    """The application, and other companies' applications holding the same file.

    duplicate_document is flagged on both sides, so the other side must be recomputed when a
    twin appears (to gain the flag) or disappears (to lose it).
    """
    computation.mark_stale([application.pk, *_document_twins(application, sha256)])
