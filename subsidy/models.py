"""Programmes, companies and their invitations, applications, machine items, documents, the
audit trail, notices and site visits."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from subsidy import file_names, validators
from subsidy.choices import MAX_PRICE, DocumentKind, Origin, PaymentMethod, RatedScale, Scale
from subsidy.engine import rules
from subsidy.storage import get_documents_storage


class Programme(models.Model):
    year = models.PositiveIntegerField(
        _("fiscal year"),
        unique=True,
        validators=[
            MinValueValidator(validators.YEAR_MIN),
            MaxValueValidator(validators.YEAR_MAX),
        ],
    )
    name = models.CharField(
        _("name"), max_length=200, validators=[validators.required_text, validators.single_line]
    )
    application_opens = models.DateField(_("applications open"))
    application_closes = models.DateField(_("applications close"))
    purchase_from = models.DateField(_("purchases from"))
    purchase_to = models.DateField(_("purchases to"))
    install_by = models.DateField(_("installed by"))
    budget = models.BigIntegerField(_("budget"), validators=[MinValueValidator(0)])
    min_refund = models.BigIntegerField(_("minimum refund"), validators=[MinValueValidator(0)])
    max_refund_per_company = models.BigIntegerField(
        _("maximum refund per company"), validators=[MinValueValidator(0)]
    )
    max_participations = models.PositiveIntegerField(
        _("maximum earlier participations"), null=True, blank=True
    )
    required_documents = models.JSONField(
        _("required documents"), default=list, blank=True, validators=[validators.document_kinds]
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return f"{self.year} {self.name}"

    def terms(self) -> rules.ProgrammeTerms:
        """The settings the refund computation reads, as plain values."""
        return rules.ProgrammeTerms(
            purchase_from=self.purchase_from,
            purchase_to=self.purchase_to,
            install_by=self.install_by,
            rates={(r.scale, r.origin): r.rate for r in self.rates.all()},
            min_refund=self.min_refund,
            max_refund_per_company=self.max_refund_per_company,
            max_participations=self.max_participations,
        )


class ProgrammeRate(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="rates")
    scale = models.CharField(_("scale"), max_length=10, choices=RatedScale.choices)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    rate = models.DecimalField(
        _("rate"),
        max_digits=5,
        decimal_places=4,
        validators=[validators.rate],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "scale", "origin"], name="one_rate_per_scale_origin"
            ),
            models.CheckConstraint(
                condition=Q(rate__gt=0) & Q(rate__lte=1), name="rate_between_0_and_1"
            ),
        ]
        ordering = ["scale", "origin"]

    def __str__(self) -> str:
        return f"{self.scale}/{self.origin}: {self.rate}"


class ReferenceCounter(models.Model):
    """Per-programme sequence of reference numbers, locked by the submitting transaction."""

    programme = models.OneToOneField(
        Programme, on_delete=models.CASCADE, primary_key=True, related_name="reference_counter"
    )
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.last_number}"


class Company(models.Model):
    name = models.CharField(
        _("name"), max_length=200, validators=[validators.required_text, validators.single_line]
    )
    nib = models.CharField(
        _("NIB"), max_length=13, unique=True, null=True, blank=True, validators=[validators.nib]
    )
    npwp = models.CharField(_("NPWP"), max_length=16, blank=True, validators=[validators.npwp])
    kbli = models.CharField(_("KBLI"), max_length=5, blank=True, validators=[validators.kbli])
    workers = models.PositiveIntegerField(_("workers"), default=0)
    investment_value = models.BigIntegerField(
        _("investment value"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(10**15)],
        help_text=_("Rupiah, excluding land and buildings."),
    )
    province = models.CharField(_("province"), max_length=2, blank=True)
    regency = models.CharField(_("regency"), max_length=5, blank=True)
    address = models.TextField(
        _("address"),
        blank=True,
        max_length=validators.ADDRESS_MAX_LENGTH,
        validators=[
            MaxLengthValidator(validators.ADDRESS_MAX_LENGTH),
            validators.multi_line,
        ],
    )
    bank_name = models.CharField(
        _("bank name"), max_length=100, blank=True, validators=[validators.single_line]
    )
    bank_account_number = models.CharField(
        _("bank account number"), max_length=34, blank=True, validators=[validators.account_number]
    )
    bank_account_name = models.CharField(
        _("bank account name"), max_length=200, blank=True, validators=[validators.single_line]
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="companies", verbose_name=_("members")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        # The application list filters by province and pages by id.
        indexes = [models.Index(fields=["province", "id"], name="company_province_id")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validators.region(self.province, self.regency)

    @property
    def scale(self) -> str:
        return rules.company_scale(self.workers, self.investment_value)

    def snapshot(self) -> dict:
        """The company data copied onto an application at submission (DOMAIN.md)."""
        return {
            "name": self.name,
            "nib": self.nib or "",
            "npwp": self.npwp,
            "kbli": self.kbli,
            "workers": self.workers,
            "investment_value": self.investment_value,
            "province": self.province,
            "regency": self.regency,
            "address": self.address,
            "bank_name": self.bank_name,
            "bank_account_number": self.bank_account_number,
            "bank_account_name": self.bank_account_name,
        }


class CompanyInvitation(models.Model):
    """An invitation to join a company, sent by e-mail; the link's token is stored hashed."""

    VALID_DAYS = 14

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # SHA-256 of the link's token: a copy of the database opens no invitation.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("company invitation")
        verbose_name_plural = _("company invitations")
        constraints = [
            # Re-inviting an address replaces its pending invitation: one link works at a time.
            models.UniqueConstraint(
                fields=["company", "email"],
                condition=Q(accepted_at__isnull=True, revoked=False),
                name="one_pending_invitation_per_company_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id}: {self.email}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and not self.revoked


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        UNDER_REVIEW = "under_review", _("Administrative review")
        REVISION_REQUESTED = "revision_requested", _("Revision requested")
        FIELD_VERIFICATION = "field_verification", _("Field verification")
        RECOMMENDED = "recommended", _("Recommended")
        APPROVED = "approved", _("Approved")
        DISBURSED = "disbursed", _("Disbursed")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATUSES = (
        Status.DRAFT,
        Status.SUBMITTED,
        Status.UNDER_REVIEW,
        Status.REVISION_REQUESTED,
        Status.FIELD_VERIFICATION,
        Status.RECOMMENDED,
    )
    EDITABLE_STATUSES = (Status.DRAFT, Status.REVISION_REQUESTED)
    ENDED_STATUSES = (Status.WITHDRAWN, Status.REJECTED)

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="applications")
    reference = models.CharField(_("reference"), max_length=20, unique=True, null=True, blank=True)
    # Written only by the workflow services (a conditional update), never by a form.
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True)
    company_snapshot = models.JSONField(_("company data at submission"), null=True, blank=True)
    case_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cases",
        null=True,
        blank=True,
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    checklist = models.JSONField(null=True, blank=True)
    # Results of the refund computation; computed_at is empty while they are stale.
    scale = models.CharField(max_length=10, choices=Scale.choices, blank=True)
    eligible_total = models.BigIntegerField(default=0)
    computed_discount = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    findings = models.JSONField(default=list, blank=True)
    breakdown = models.JSONField(default=dict, blank=True)
    # Bumped by every change the results depend on; a computation stores its results only
    # if the version it read is still current, so the last change always wins.
    data_version = models.PositiveIntegerField(default=0)
    # When the stale results' computation was last queued: still stale long after it, the
    # beat job requeue_stale_computations queues it again (a lost message, a broker that was
    # down, a killed worker).
    compute_queued_at = models.DateTimeField(null=True, blank=True)
    approved_amount = models.BigIntegerField(null=True, blank=True)
    disbursed_amount = models.BigIntegerField(null=True, blank=True)
    transfer_reference = models.CharField(
        max_length=100, blank=True, validators=[validators.single_line]
    )
    transferred_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "programme"],
                condition=~Q(status__in=["withdrawn", "rejected"]),
                name="one_live_application_per_company_programme",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "status"]),
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["submitted_at"]),
            # Counting a filtered list page (status and the company's province) stays an
            # index-only join at 100,000 applications (docs/benchmarks.md).
            models.Index(fields=["status", "company"], name="application_status_company"),
            # A queue's part (selectors.queue_parts) is one status: its first page reads this
            # index in waiting order and stops, its count reads the range alone (PostgreSQL
            # covers the case officer and the company, so no table row is read).
            models.Index(
                fields=["status", "status_changed_at", "id"],
                include=["case_officer", "company"],
                name="application_queue",
            ),
            # The programme report (subsidy/reports.py) groups a programme's cases six ways:
            # PostgreSQL reads these columns from the index, not the 3 KB rows holding the
            # breakdown (0.65 s instead of 1.85 s at 100,000, docs/benchmarks.md).
            models.Index(
                fields=["programme"],
                include=[
                    "id",
                    "status",
                    "scale",
                    "computed_discount",
                    "approved_amount",
                    "disbursed_amount",
                    "submitted_at",
                    "company",
                ],
                name="application_report",
            ),
            # The beat job's search for stale results reads only the stale rows.
            models.Index(
                fields=["compute_queued_at"],
                condition=Q(computed_at__isnull=True),
                name="application_stale",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def payout_bank_name(self) -> str:
        return (self.company_snapshot or {}).get("bank_name", "")

    @property
    def payout_account_number(self) -> str:
        return (self.company_snapshot or {}).get("bank_account_number", "")

    @property
    def payout_account_name(self) -> str:
        return (self.company_snapshot or {}).get("bank_account_name", "")


class MachineItem(models.Model):
    # The fields an applicant fills in (services, serializers and list queries share them).
    INPUT_FIELDS = (
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
    )

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    description = models.CharField(
        _("description"),
        max_length=300,
        validators=[validators.required_text, validators.single_line],
    )
    brand = models.CharField(
        _("brand"), max_length=100, blank=True, validators=[validators.single_line]
    )
    model = models.CharField(
        _("model"), max_length=100, blank=True, validators=[validators.single_line]
    )
    serial_number = models.CharField(
        _("serial number"),
        max_length=100,
        validators=[validators.required_text, validators.single_line],
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    supplier_name = models.CharField(
        _("supplier name"),
        max_length=200,
        validators=[validators.required_text, validators.single_line],
    )
    supplier_npwp = models.CharField(
        _("supplier NPWP"), max_length=16, validators=[validators.required_text, validators.npwp]
    )
    invoice_number = models.CharField(
        _("invoice number"),
        max_length=100,
        validators=[validators.required_text, validators.single_line],
    )
    tax_invoice_number = models.CharField(
        _("tax invoice number"),
        max_length=100,
        validators=[validators.required_text, validators.single_line],
    )
    invoice_date = models.DateField(_("invoice date"), validators=[validators.not_in_future])
    price = models.BigIntegerField(
        _("price excluding VAT"), validators=[MinValueValidator(1), MaxValueValidator(MAX_PRICE)]
    )
    vat = models.BigIntegerField(
        _("VAT"), default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_PRICE)]
    )
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices
    )
    is_new = models.BooleanField(_("new machine"), default=True)
    installed_on = models.DateField(
        _("installed on"), null=True, blank=True, validators=[validators.not_in_future]
    )
    # Normalised claim keys: the same invoice or serial written differently is one claim.
    invoice_key = models.CharField(max_length=140, editable=False, db_index=True)
    serial_key = models.CharField(max_length=100, editable=False, db_index=True)
    # Results of the computation.
    rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    discount = models.BigIntegerField(default=0)
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("machine item")
        verbose_name_plural = _("machine items")
        indexes = [
            # The report's machines by origin, read from the index (subsidy/reports.py).
            models.Index(
                fields=["application"],
                include=["id", "origin", "price", "discount"],
                name="machineitem_report",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs) -> None:
        self.invoice_key = rules.invoice_key(self.supplier_npwp, self.invoice_number)
        self.serial_key = rules.serial_key(self.serial_number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "invoice_key", "serial_key"}
        super().save(*args, **kwargs)


def get_private_storage() -> object:
    """The storage migrations 0001-0009 name: the documents' storage, as today."""
    return get_documents_storage()


def document_path(instance: "Document", filename: str) -> str:
    """Kind, reference and a random part, with the suffix of the sniffed content type: the
    uploader's file name never reaches the store (subsidy/file_names.py)."""
    return file_names.stored_document_name(instance)


class Document(models.Model):
    class ScanStatus(models.TextChoices):
        """Where the malware check stands (subsidy/scanning.py)."""

        PENDING = "pending", _("Being checked")
        CLEAN = "clean", _("Checked: clean")
        INFECTED = "infected", _("Refused: malware found")
        NOT_SCANNED = "not_scanned", _("Not scanned")

    # What may be downloaded, shown and counted: found clean, or uploaded with scanning off.
    USABLE_SCAN_STATUSES = (ScanStatus.CLEAN, ScanStatus.NOT_SCANNED)

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    item = models.ForeignKey(
        MachineItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    file = models.FileField(storage=get_documents_storage, upload_to=document_path, max_length=200)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=50)
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    scan_status = models.CharField(
        _("malware check"),
        max_length=12,
        choices=ScanStatus.choices,
        default=ScanStatus.NOT_SCANNED,
    )
    scanned_at = models.DateTimeField(null=True, blank=True)
    # The scanner's name for what it found (an infected file only).
    scan_signature = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Beat's look for scans left pending (scanning.stale_pending_ids).
            models.Index(
                fields=["uploaded_at"],
                condition=Q(scan_status="pending"),
                name="document_scan_pending",
            )
        ]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return f"{self.kind}: {self.original_name}"

    @property
    def is_usable(self) -> bool:
        """May be downloaded, shown and counted (see USABLE_SCAN_STATUSES)."""
        return self.scan_status in self.USABLE_SCAN_STATUSES


class AuditEntry(models.Model):
    """One link of the append-only, HMAC-chained audit trail (see subsidy/audit.py)."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Plain ids, not foreign keys: the trail must outlive what it describes.
    application_id = models.BigIntegerField(null=True, db_index=True)
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    # An application's money-bearing state after a transition (audit.application_state);
    # verify_audit_trail compares the application with it. Null on other entries and on
    # transitions recorded before it existed.
    state = models.JSONField(null=True, blank=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self) -> str:
        return f"{self.seq} {self.action} {self.object_type}#{self.object_id}"


class AuditChainHead(models.Model):
    """The last link of the chain; its row lock orders concurrent appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_mac = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit head at {self.last_seq}"


class Notice(models.Model):
    """One message to one person, created with the transition that causes it, sent once."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submission received")
        REVISION_REQUESTED = "revision_requested", _("Revision requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DISBURSED = "disbursed", _("Disbursed")
        REMINDER = "reminder", _("Reminder")
        DOCUMENT_REFUSED = "document_refused", _("Document refused")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # (recipient, transition) for case notices, (officer, day) for digests: sent once.
    key = models.CharField(max_length=100, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, null=True, blank=True, related_name="notices"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    language = models.CharField(max_length=2, default="id")
    title = models.CharField(max_length=200)
    body = models.TextField()
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["status", "claimed_at"]),
        ]

    def __str__(self) -> str:
        return self.key


class SiteVisit(models.Model):
    """A verifier's visit to the company during field verification (DOMAIN.md "A site visit")."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="site_visits"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    visited_on = models.DateField(_("visited on"), validators=[validators.not_in_future])
    place = models.CharField(_("place"), max_length=300, validators=[validators.required_text])
    # The four answers of the recommend checklist (workflow.transitions.CHECKLIST_ITEMS).
    machines_present = models.BooleanField(_("machines present"))
    machines_new = models.BooleanField(_("machines new"))
    machines_installed = models.BooleanField(_("machines installed"))
    not_transferred = models.BooleanField(_("not transferred"))
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The latest visit last: recommending without a checklist uses it.
        ordering = ["visited_on", "id"]
        verbose_name = _("site visit")
        verbose_name_plural = _("site visits")

    def __str__(self) -> str:
        return f"{self.application} {self.visited_on}"


def site_visit_photo_path(instance: "SiteVisitPhoto", filename: str) -> str:
    """As document_path, in a folder of its own."""
    return file_names.stored_photo_name(instance)


class SiteVisitPhoto(models.Model):
    """A photo taken on site; its time and position come from its EXIF, or it has none."""

    visit = models.ForeignKey(SiteVisit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(
        storage=get_documents_storage, upload_to=site_visit_photo_path, max_length=200
    )
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=50)
    sha256 = models.CharField(max_length=64, db_index=True)
    # From EXIF DateTimeOriginal; null when the photo carries none.
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    # From the EXIF GPS block, in decimal degrees (about 0.1 m at six places); never floats.
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    has_exif_location = models.BooleanField(_("EXIF position"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("site visit photo")
        verbose_name_plural = _("site visit photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(has_exif_location=True, latitude__isnull=False, longitude__isnull=False)
                | Q(has_exif_location=False, latitude__isnull=True, longitude__isnull=True),
                name="site_photo_location_has_both_coordinates",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or f"#{self.pk}"


def export_path(instance: "Export", filename: str) -> str:
    """A random name: an export's file is reached only through its permission-checked record."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"exports/{uuid.uuid4().hex}{suffix}"


class Export(models.Model):
    """One background export of the applications or machine-items list (API.md "Exports"):
    who asked, when, for what, and the file the job wrote. Kept after its file expires: the
    record is what auditors read."""

    class Kind(models.TextChoices):
        APPLICATIONS = "applications", _("applications")
        ITEMS = "items", _("machine items")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Failure(models.TextChoices):
        REFUSED = "refused", _("The filters or your role no longer allow this export.")
        WORKER_LOST = "worker_lost", _("The worker writing the file stopped before it finished.")
        TIME_LIMIT = "time_limit", _("The export took longer than allowed.")
        ERROR = "error", _("The file could not be written.")
        STOPPED = "stopped", _("The download stopped before the last row.")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    format = models.CharField(max_length=10, choices=Format.choices)
    # A CSV streamed straight to the one who asked (exports/applications.csv, items.csv): the
    # record of what left, with its rows and SHA-256; no file is kept and no job runs.
    streamed = models.BooleanField(default=False)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    rows = models.PositiveBigIntegerField(default=0)
    # Rows the job expected when it started: what progress is a share of.
    total = models.PositiveBigIntegerField(null=True, blank=True)
    # Each claim by a worker counts one; a job past its last attempt is failed, not run again.
    attempts = models.PositiveSmallIntegerField(default=0)
    # The queue message (Celery task id) whose run holds the claim. The broker hands a message
    # to one worker at a time, so the same message delivered again means its run died: it
    # takes the export over at once, without waiting for the heartbeat to go stale.
    claimed_by = models.CharField(max_length=64, blank=True)
    file = models.FileField(
        storage=get_documents_storage, upload_to=export_path, max_length=200, blank=True
    )
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    failure = models.CharField(max_length=20, choices=Failure.choices, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved on with every progress update: a running export whose heartbeat stops belongs to a
    # dead worker (subsidy/exports/jobs.py, sweep_exports).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the file was deleted, 7 days after it was written; the record stays.
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="export_by_creator"),
            models.Index(fields=["status", "heartbeat_at"], name="export_by_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="export_progress_0_100"),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(progress=100) & ~Q(sha256="")),
                name="export_done_has_its_file",
            ),
        ]

    def __str__(self) -> str:
        return f"export #{self.pk} {self.kind}.{self.format} {self.status}"
