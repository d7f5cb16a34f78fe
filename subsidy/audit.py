"""The tamper-evident audit trail: an append-only chain of entries, each sealed with an HMAC.

Each entry's MAC covers its own content and the previous entry's MAC, keyed by
AUDIT_HMAC_KEY from the environment. Someone who can write to the database but does
not hold the key can neither edit, delete, reorder nor insert an entry without
`verify_audit_trail` finding the first broken link.

Cutting off the newest entries is found through the chain head (the last seq and MAC),
which is not sealed: someone who cuts the tail *and* rewrites the head to the new last
entry is found against a copy of the head kept outside the database: a beat job appends it
to a file per day in AUDIT_ANCHOR_DIR (and mails it to the auditors), and
`verify_audit_trail` checks the latest of them (or one given with --anchor).

Each transition also records the application's money-bearing state (`application_state`),
so a status, an amount or a payout snapshot edited in the database is found as well.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import Application, AuditChainHead, AuditEntry

GENESIS_MAC = "0" * 64
# The action of a staff member's read of a stored file (subsidy/services/reads.py): in the trail,
# left out of a case's history (selectors.application_history).
READ = "read"

logger = logging.getLogger(__name__)


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
    if entry.state is not None:
        # Only when present, so the entries sealed before the field existed keep their MAC.
        body["state"] = entry.state
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
    state: dict | None = None,
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
        state=state,
        prev_mac=head.last_mac or GENESIS_MAC,
    )
    # Round-trip the changes through JSON so the MAC covers exactly what is stored.
    entry.changes = json.loads(json.dumps(entry.changes, default=_plain))
    if entry.state is not None:
        entry.state = json.loads(json.dumps(entry.state, default=_plain))
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


# --- Anchors: the chain head kept outside the database ---------------------------------------


@dataclass(frozen=True)
class Anchor:
    seq: int
    mac: str
    at: str = ""

    def __str__(self) -> str:
        return f"{self.seq}:{self.mac}"


def _anchor_dir() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR)


def _parse_anchor(line: str) -> Anchor | None:
    try:
        data = json.loads(line)
        seq, mac = int(data["seq"]), str(data["mac"])
    except (ValueError, TypeError, KeyError):
        return None
    if seq < 1 or len(mac) != 64:
        return None
    return Anchor(seq, mac, str(data.get("at", "")))


def latest_anchor(directory: Path | None = None) -> Anchor | None:
    """The last anchor written: the last readable line of the newest day's file."""
    directory = directory or _anchor_dir()
    if not directory.is_dir():
        return None
    for path in sorted(directory.glob("*.jsonl"), reverse=True):
        for line in reversed(path.read_text(encoding="utf-8").splitlines()):
            anchor = _parse_anchor(line)
            if anchor is not None:
                return anchor
    return None


def check_anchor(anchor: Anchor, verdict: Verdict) -> Verdict:
    """The intact chain still holds the anchored entry with its MAC (else its tail was cut and
    the head rewritten, or the anchored entry replaced)."""
    if not verdict.intact:
        return verdict
    if not AuditEntry.objects.filter(seq=anchor.seq, mac=anchor.mac).exists():
        when = f" at {anchor.at}" if anchor.at else ""
        return Verdict(
            False,
            verdict.checked,
            anchor.seq,
            f"it is not the entry anchored outside the database{when} "
            f"(the chain now ends at entry {verdict.checked}): entries at the end were cut off "
            "and the head rewritten, or the entry replaced",
        )
    return verdict


def anchor_write(*, now: dt.datetime | None = None) -> Anchor | None:
    """Append the chain's head to today's anchor file, once the chain and the previous anchor
    check out (an anchor must never bless a tampered trail). None when there is nothing to
    anchor or the check failed (logged as an error)."""
    previous = latest_anchor()
    verdict = verify()
    if previous is not None:
        verdict = check_anchor(previous, verdict)
    if not verdict.intact:
        logger.error(
            "audit trail broken at entry %s: %s; not anchored", verdict.seq, verdict.reason
        )
        return None
    if not verdict.checked:
        return None
    now = now or timezone.now()
    anchor = Anchor(verdict.checked, verdict.last_mac, _plain(now))
    directory = _anchor_dir()
    directory.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"seq": anchor.seq, "mac": anchor.mac, "at": anchor.at}) + "\n"
    path = directory / f"{timezone.localdate(now).isoformat()}.jsonl"
    # Append only: the day's earlier anchors stay as they were written.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return anchor


# --- The applications' money-bearing state ---------------------------------------------------

STATE_FIELDS = (
    "status",
    "approved_amount",
    "disbursed_amount",
    "transfer_reference",
    "transferred_on",
)


def _snapshot_digest(snapshot: object) -> str | None:
    """A keyed digest of the company data (bank account included) the payout goes to: the
    trail can compare it without copying the account number into every entry."""
    if snapshot is None:
        return None
    data = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(_key(), b"company_snapshot:" + data.encode(), hashlib.sha256).hexdigest()


def application_state(application: Application) -> dict:
    """What a transition records of its application, and verification compares."""
    state = {name: _plain(getattr(application, name)) for name in STATE_FIELDS}
    state["company_snapshot"] = _snapshot_digest(application.company_snapshot)
    return state


@dataclass(frozen=True)
class StateMismatch:
    application_id: int
    reference: str
    seq: int | None
    fields: tuple[str, ...]

    def __str__(self) -> str:
        name = f"application {self.application_id}" + (
            f" ({self.reference})" if self.reference else ""
        )
        if self.seq is None:
            return f"{name} is {', '.join(self.fields)} without any audited transition"
        return (
            f"{name}: {', '.join(self.fields)} differ from what its last audited transition "
            f"(entry {self.seq}) recorded"
        )


def verify_applications(batch: int = 2000) -> list[StateMismatch]:
    """Every application whose status or money differs from what its last transition recorded.

    Entries recorded before transitions carried the state are compared on the status alone.
    """
    last_seq = dict(
        AuditEntry.objects.filter(object_type="application", application_id__isnull=False)
        .exclude(to_status="")
        .values("application_id")
        .annotate(last=Max("seq"))
        .values_list("application_id", "last")
    )
    mismatches = []
    fields = ("id", "reference", "company_snapshot", *STATE_FIELDS)
    after = 0
    while True:
        rows = list(Application.objects.filter(pk__gt=after).order_by("pk")[:batch].only(*fields))
        if not rows:
            return mismatches
        after = rows[-1].pk
        wanted = [last_seq[a.pk] for a in rows if a.pk in last_seq]
        entries = {
            e.application_id: e
            for e in AuditEntry.objects.filter(seq__in=wanted).only(
                "seq", "application_id", "to_status", "state"
            )
        }
        for application in rows:
            entry = entries.get(application.pk)
            if entry is None:
                if application.status != Application.Status.DRAFT:
                    mismatches.append(
                        StateMismatch(
                            application.pk, application.reference or "", None, ("status",)
                        )
                    )
                continue
            recorded = entry.state or {"status": entry.to_status}
            current = application_state(application)
            differ = tuple(name for name in recorded if current.get(name) != recorded[name])
            if differ:
                mismatches.append(
                    StateMismatch(application.pk, application.reference or "", entry.seq, differ)
                )
