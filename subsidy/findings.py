"""What each finding code means, in a sentence of the reader's language (API, pages, letters)."""

from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from subsidy.engine import rules


@cache
def _finding_texts(language: str) -> dict[str, str]:
    """The sentence for each finding code, per language (built once: lists show many)."""
    with translation.override(language):
        return {
            rules.PURCHASE_OUTSIDE_WINDOW: _("The invoice date is outside the purchase window."),
            rules.NOT_NEW: _("The machine is not new."),
            rules.NOT_INSTALLED: _(
                "The machine is not installed, or was installed after the deadline."
            ),
            rules.PAYMENT_NOT_VIA_BANK: _("Payment was not made through a bank."),
            rules.DUPLICATE_INVOICE: _("This invoice is already claimed by another item."),
            rules.DUPLICATE_SERIAL: _("This serial number is already claimed by another item."),
            rules.COMPANY_NOT_IKM: _("The company is a large industry, not an IKM."),
            rules.KBLI_NOT_MANUFACTURING: _(
                "The KBLI code is not a manufacturing activity (10-33)."
            ),
            rules.PARTICIPATION_LIMIT_REACHED: _(
                "The company has reached the limit of programme participations."
            ),
            rules.NO_ELIGIBLE_ITEMS: _("No machine item is eligible for a refund."),
            rules.BELOW_MINIMUM: _("The refund is below the programme's minimum."),
        }


def finding_detail(code: str) -> str:
    texts = _finding_texts(translation.get_language() or settings.LANGUAGE_CODE)
    return texts.get(code, code)
