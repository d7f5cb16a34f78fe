"""The programme's lists of values, shared by the models, the validators and the forms."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from subsidy.engine import rules

MAX_PRICE = 10**13


class Scale(models.TextChoices):
    KECIL = rules.KECIL, _("Small industry")
    MENENGAH = rules.MENENGAH, _("Medium industry")
    BESAR = rules.BESAR, _("Large industry")


class RatedScale(models.TextChoices):
    KECIL = rules.KECIL, _("Small industry")
    MENENGAH = rules.MENENGAH, _("Medium industry")


class Origin(models.TextChoices):
    DOMESTIC = rules.DOMESTIC, _("Domestically made")
    IMPORTED = rules.IMPORTED, _("Imported")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    DEBIT_CARD = "debit_card", _("Debit card")
    CREDIT_CARD = "credit_card", _("Credit card")
    GIRO = "giro", _("Giro")
    CASH = "cash", _("Cash")


class DocumentKind(models.TextChoices):
    NIB = "nib", _("Business registration (NIB)")
    NPWP = "npwp", _("Tax ID (NPWP)")
    INVOICE = "invoice", _("Invoice")
    TAX_INVOICE = "tax_invoice", _("Tax invoice (faktur pajak)")
    PAYMENT_PROOF = "payment_proof", _("Proof of payment")
    INSTALLATION_PHOTO = "installation_photo", _("Installation photo")
    MAKER_STATEMENT = "maker_statement", _("Maker's statement")
    OTHER = "other", _("Other")
