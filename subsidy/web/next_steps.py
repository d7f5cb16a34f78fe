"""What an applicant does next, per application status: the dashboard and the case page say it."""

from django.utils.translation import gettext as _

from subsidy.models import Application

Status = Application.Status


def next_step(status: str) -> str:
    """The next thing to do (or to wait for) in plain words, for the applicant."""
    steps = {
        Status.DRAFT: _(
            "Complete the company details, the machines and the documents, then submit."
        ),
        Status.SUBMITTED: _("Wait: an officer will take up your application soon."),
        Status.UNDER_REVIEW: _("Wait: officers are checking your application and documents."),
        Status.REVISION_REQUESTED: _(
            "Fix what the officer asked for, then submit the application again."
        ),
        Status.FIELD_VERIFICATION: _(
            "Wait: officers will visit to see the machines. Keep them installed and ready."
        ),
        Status.RECOMMENDED: _("Wait: the application is recommended and awaits approval."),
        Status.APPROVED: _(
            "The refund will be transferred to your company's bank account. You can download "
            "the approval letter."
        ),
        Status.DISBURSED: _("The refund has been transferred. Nothing more to do."),
        Status.REJECTED: _("Nothing more to do on this application; the notice gives the reason."),
        Status.WITHDRAWN: _(
            "Nothing more to do. You may start a new application while the programme is open."
        ),
    }
    return steps.get(status, "")
