"""The tamper-evident audit trail: an append-only chain of entries, each sealed with an HMAC.

Each entry's MAC covers its own content and the previous entry's MAC, keyed by
AUDIT_HMAC_KEY from the environment. Someone who can write to the database but does
not hold the key can neither edit, delete, reorder nor insert an entry without
`verify_audit_trail` finding the first broken link.

Cutting off the newest entries is found through the chain head (the last seq and MAC),
which is not sealed: someone who cuts the tail *and* rewrites the head to the new last
entry is found only against a copy of the head kept outside the database, which
`verify_audit_trail` prints and checks with --anchor.
"""

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEntry

GENESIS_MAC = "0" * 64


def _key() -> bytes:
    key = settings.AUDIT_HMAC_KEY
    if not key:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY is not set: the audit trail cannot be sealed.")
    return key.encode()


def _plain(value: object) -> object:
    """JSON-safe form of a field value, the same before and after a database round trip."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name
    return value


def _content(entry: AuditEntry) -> bytes:
    body = {
        "seq": entry.seq,
        "at": _plain(entry.at),
        "actor": entry.actor_id,
        "application": entry.application_id,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "action": entry.action,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "comment": entry.comment,
        "changes": entry.changes,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(entry: AuditEntry, prev_mac: str) -> str:
    return hmac.new(_key(), _content(entry) + prev_mac.encode(), hashlib.sha256).hexdigest()


def diff(old: dict, new: dict) -> dict:
    """{field: [old, new]} for every field whose value changed."""
    return {
        name: [_plain(old.get(name)), _plain(value)]
        for name, value in new.items()
        if _plain(old.get(name)) != _plain(value)
    }


def snapshot(instance: object, fields: list[str]) -> dict:
    return {name: _plain(getattr(instance, name)) for name in fields}


def record(
    *,
    actor: object | None,
    action: str,
    object_type: str,
    object_id: int | None,
    application_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    changes: dict | None = None,
) -> AuditEntry:
    """Append one entry. Call it last in a transaction: the head row lock is held until commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    entry = AuditEntry(
        seq=head.last_seq + 1,
        at=timezone.now(),
        actor_id=getattr(actor, "pk", None),
        application_id=application_id,
        object_type=object_type,
        object_id=object_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        changes={k: v for k, v in (changes or {}).items()},
        prev_mac=head.last_mac or GENESIS_MAC,
    )
    # Round-trip the changes through JSON so the MAC covers exactly what is stored.
    entry.changes = json.loads(json.dumps(entry.changes, default=_plain))
    entry.mac = seal(entry, entry.prev_mac)
    entry.save(force_insert=True)
    head.last_seq = entry.seq
    head.last_mac = entry.mac
    head.save(update_fields=["last_seq", "last_mac"])
    return entry


@dataclass(frozen=True)
class Verdict:
    intact: bool
    checked: int
    seq: int | None = None
    reason: str = ""
    last_mac: str = ""


def _entries(batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify() -> Verdict:
    """Walk the chain from the first entry; report the first entry that breaks it.

    The head is read before the entries: an entry and the head move in one transaction, so
    every entry up to the head read first is committed, and entries appended while the walk
    runs extend the chain (and are checked) instead of looking like a changed tail.
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    expected_seq = 1
    prev_mac = GENESIS_MAC
    checked = 0
    for entry in _entries():
        if entry.seq != expected_seq:
            return Verdict(
                False,
                checked,
                expected_seq,
                f"entry {expected_seq} is missing (next stored entry is {entry.seq}): deleted",
            )
        if entry.prev_mac != prev_mac:
            return Verdict(
                False, checked, entry.seq, "does not link to the entry before it: out of order"
            )
        if not hmac.compare_digest(entry.mac, seal(entry, prev_mac)):
            return Verdict(
                False, checked, entry.seq, "its content does not match its seal: altered or forged"
            )
        if head is not None and entry.seq == head.last_seq and entry.mac != head.last_mac:
            return Verdict(
                False,
                checked,
                entry.seq,
                "the chain head records another last entry: it or the head was replaced",
            )
        prev_mac = entry.mac
        expected_seq += 1
        checked += 1
    if checked and head is None and not AuditChainHead.objects.filter(pk=1).exists():
        # The head is written with the first entry (read again: it may have come meanwhile);
        # without it the end of the trail cannot be confirmed.
        return Verdict(
            False,
            checked,
            checked + 1,
            f"the chain head is missing after entry {checked}: the end cannot be confirmed",
        )
    recorded = head.last_seq if head is not None else 0
    if checked < recorded:
        return Verdict(
            False,
            checked,
            checked + 1,
            f"the chain ends at entry {checked} but its head records {recorded}: "
            "entries at the end were deleted",
        )
    return Verdict(True, checked, last_mac=prev_mac if checked else "")
