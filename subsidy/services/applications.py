"""Writes to applications and their machine items (transitions live in subsidy.workflow).

The item services check in the contract's order: 404/403 (member), 400 (the data), then 409
(the application's state, read under the lock).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy import audit, validators
from subsidy.access import not_found
from subsidy.engine import rules, stale
from subsidy.models import (
    Application,
    Company,
    MachineItem,
    Programme,
)
from subsidy.services.inputs import _full_clean, _whole_number_errors
from subsidy.services.permissions import require_editable, require_member

User = get_user_model()


ITEM_WHOLE_NUMBERS = ("price", "vat")


# Written by the computation only, never taken from input.
ITEM_RESULT_FIELDS = ["invoice_key", "serial_key", "rate", "discount", "findings"]


# What an applicant types for a machine; the rest of an item is derived or computed.
ITEM_FIELDS = list(MachineItem.INPUT_FIELDS)


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
    stale.mark_stale([application.pk])
    audit.record(
        actor=by,
        action="create",
        object_type="application",
        object_id=application.pk,
        application_id=application.pk,
        to_status=application.status,
        changes={"programme": [None, programme.pk], "company": [None, company.pk]},
        state=audit.application_state(application),
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
    stale.lock_claim_keys(invoice_keys=keys[0], serial_keys=keys[1])
    return stale.applications_sharing_claims(
        invoice_keys=keys[0], serial_keys=keys[1], exclude_application=application.pk
    )


def lock_with(application: Application, others: list[int]) -> Application:
    """Lock the application (no transition slips in during an edit) and those it makes stale.

    Two applicants editing items that share an invoice each lock their own application and
    then mark the other's stale; taking every row in id order makes the second wait for the
    first instead of the two deadlocking.
    """
    ids = sorted({application.pk, *others})
    rows = Application.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}[application.pk]


def _recompute_with_rivals(application: Application, keys: tuple[set, set]) -> None:
    stale.mark_stale([application.pk, *_rivals(application, keys)])


def _validated_item(item: MachineItem, data: dict) -> MachineItem:
    for name, value in data.items():
        setattr(item, name, value)
    _full_clean(item, _whole_number_errors(data, ITEM_WHOLE_NUMBERS), exclude=ITEM_RESULT_FIELDS)
    _check_claim_keys(item)
    return item


@transaction.atomic
def item_create(*, application: Application, by: User, **fields: object) -> MachineItem:
    require_member(application.company, by)
    item = _validated_item(MachineItem(application=application), _item_clean_input(fields))
    keys = _item_keys(item)
    application = lock_with(application, _rivals(application, ({keys[0]}, {keys[1]})))
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
    application = lock_with(
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
            stale.mark_stale([application.pk])
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
    application = lock_with(application, _rivals(application, keys))
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
