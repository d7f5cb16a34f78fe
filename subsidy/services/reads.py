"""Reads of personal files by staff, recorded in the audit trail (issue 13, ASVS V8): which
document, site photo or export file which officer opened, when. An applicant opening their
own company's documents is not recorded; their uploads are."""

from django.db import transaction

from subsidy import access, audit

# A document opened in the case page's frame and one downloaded are both reads.
READ = "read"


def staff_read(
    *,
    by: object,
    object_type: str,
    object_id: int,
    application_id: int | None = None,
    inline: bool = False,
    **details: object,
) -> None:
    """One audit entry for a staff member's read of a stored file (nothing for anyone else)."""
    if not access.sees_everything(by):
        return
    with transaction.atomic():
        audit.record(
            actor=by,
            action=READ,
            object_type=object_type,
            object_id=object_id,
            application_id=application_id,
            changes={
                "inline": [None, inline],
                **{name: [None, value] for name, value in details.items()},
            },
        )
