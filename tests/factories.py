"""factory_boy factories; applications go through their states via the workflow services."""

import datetime as dt
from decimal import Decimal

import factory
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.roles import grant_role
from subsidy import validators
from subsidy.models import Application, Company, MachineItem, Programme, ProgrammeRate

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    language = "id"
    password = factory.PostGenerationMethodCall("set_password", "Pw-for-tests-1")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        self.save()
        for role in extracted or ():
            grant_role(self, role)

    @factory.post_generation
    def second_factor(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """An authenticator app (TOTP, with recovery codes) for staff and superusers, as they
        must have before any staff page works; ``second_factor=False`` leaves them without,
        ``True`` gives one to anybody."""
        wanted = self.needs_second_factor if extracted is None else extracted
        if wanted:
            enrol_totp(self)


def enrol_totp(user) -> Authenticator:
    """The user's authenticator app, set up as allauth's enrolment page does (the secret is
    read back with tests.utils.totp_code)."""
    totp = TOTP.activate(user, generate_totp_secret()).instance
    RecoveryCodes.activate(user)
    return totp


def today() -> dt.date:
    return timezone.localdate()


def _free_year() -> int:
    """The next programme year no programme has, ascending from 2050 (a later factory programme
    is a later year), then from validators.YEAR_MIN: the years tests write themselves (2001,
    2002, ...) stay free unless a test makes fifty programmes."""
    taken = set(Programme.objects.values_list("year", flat=True))
    middle = 2050
    order = [*range(middle, validators.YEAR_MAX + 1), *range(validators.YEAR_MIN, middle)]
    return next(year for year in order if year not in taken)


class ProgrammeFactory(factory.django.DjangoModelFactory):
    """A programme whose application window is open today and whose purchases end today."""

    class Meta:
        model = Programme
        skip_postgeneration_save = True

    year = factory.LazyFunction(lambda: _free_year())
    name = factory.LazyAttribute(lambda o: f"Program {o.year}")
    application_opens = factory.LazyFunction(lambda: today() - dt.timedelta(days=30))
    application_closes = factory.LazyFunction(lambda: today() + dt.timedelta(days=30))
    purchase_from = factory.LazyFunction(lambda: today() - dt.timedelta(days=365))
    purchase_to = factory.LazyFunction(today)
    install_by = factory.LazyFunction(today)
    budget = 10_000_000_000
    min_refund = 5_000_000
    max_refund_per_company = 300_000_000
    max_participations = 3
    required_documents = factory.LazyFunction(lambda: ["invoice"])

    @factory.post_generation
    def rates(self, create: bool, extracted: dict | None, **kwargs: object) -> None:
        rates = extracted or {
            ("kecil", "domestic"): "0.4000",
            ("kecil", "imported"): "0.2500",
            ("menengah", "domestic"): "0.4000",
            ("menengah", "imported"): "0.2500",
        }
        for (scale, origin), rate in rates.items():
            ProgrammeRate.objects.create(
                programme=self, scale=scale, origin=origin, rate=Decimal(rate)
            )


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"CV Maju Jaya {n}")
    nib = factory.Sequence(lambda n: f"{9100000000000 + n:013d}")
    npwp = factory.Sequence(lambda n: f"{10000000000000 + n:015d}")
    kbli = "25120"
    workers = 12
    investment_value = 500_000_000
    province = "33"
    regency = "33.10"
    address = "Jl. Pemuda No. 1, Klaten"
    bank_name = "BRI"
    bank_account_number = factory.Sequence(lambda n: f"0021{n:08d}")
    bank_account_name = factory.LazyAttribute(lambda o: o.name)

    @factory.post_generation
    def members(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        for user in extracted or ():
            self.members.add(user)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    programme = factory.SubFactory(ProgrammeFactory)
    company = factory.SubFactory(CompanyFactory)


class MachineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MachineItem

    application = factory.SubFactory(ApplicationFactory)
    description = "Mesin CNC bubut"
    brand = "Krisbow"
    model = "KW-1000"
    serial_number = factory.Sequence(lambda n: f"SN-{n:06d}")
    origin = "domestic"
    supplier_name = "PT Sumber Mesin"
    supplier_npwp = "012345678901000"
    invoice_number = factory.Sequence(lambda n: f"INV/{n:05d}")
    tax_invoice_number = factory.Sequence(lambda n: f"010.000-26.{n:08d}")
    invoice_date = factory.LazyFunction(lambda: today() - dt.timedelta(days=60))
    price = 100_000_000
    vat = 11_000_000
    payment_method = "bank_transfer"
    is_new = True
    installed_on = factory.LazyFunction(lambda: today() - dt.timedelta(days=30))
