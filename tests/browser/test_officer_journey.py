"""The officers at their desks, one case from the queue to the bank: the verifier takes it,
views a document beside its machine and requests a revision; after the applicant's fix the
verifier passes review, records the site visit with a camera photo whose EXIF time and GPS
position are shown, and recommends from the visit; an approver reads the budget meter and
approves it with another case at once; finance downloads the transfer batch and uploads the
bank's result. axe and the CSP listener check every page on the way."""

import csv
import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageDraw, TiffImagePlugin
from playwright.sync_api import expect

from accounts.roles import APPLICANT, APPROVER, FINANCE, VERIFIER
from subsidy.demo.applicant import sample_pdf
from subsidy.formats import long_datetime
from subsidy.models import Application, AuditEntry, SiteVisitPhoto
from subsidy.services import documents as document_services
from subsidy.workflow import actions as workflow
from tests.browser.conftest import check_page
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.subsidy.test_workflow_matrix import put_in_state
from tests.web.office_cases import case_with_machines

S = Application.Status
# A desk screen (the screenshots of the docs are taken at this width too).
DESK = {"width": 1366, "height": 768}
# Set OFFICE_SCREENSHOTS=docs/screenshots to refresh the desk-width pictures of the docs.
SCREENSHOTS = os.environ.get("OFFICE_SCREENSHOTS", "")
# Where the photo was taken, as a phone's camera writes it: 7° 42' 20.5" S, 110° 36' 10.2" E
# (Ceper, Klaten); in decimal degrees 7 + 42/60 + 20.5/3600 and 110 + 36/60 + 10.2/3600.
POSITION = "-7.705694, 110.602833"


@pytest.fixture
def desk(phone):
    """The phone fixture's page (its CSP listener, the policy of each document, a screenshot
    on failure) at a desk's width."""
    phone.set_viewport_size(DESK)
    return phone


def log_in(page, live_server, user) -> None:
    """The session of a logged-in user, as the log-in form would leave it."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def snapshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        # A PDF viewer below the fold draws nothing in a full-page shot: the whole page in
        # the viewport first, so that each document draws, then the shot.
        size = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
        page.wait_for_timeout(2000)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"office-{name}.png"), full_page=True)
        page.set_viewport_size(size)


def camera_photo(path: Path) -> Path:
    """A JPEG as a phone's camera leaves it: EXIF DateTimeOriginal, its offset and GPS."""
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    details = exif.get_ifd(0x8769)
    details[0x9003] = "2026:03:05 10:15:30"  # DateTimeOriginal, local time
    details[0x9011] = "+07:00"  # OffsetTimeOriginal: WIB
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (rational(7, 1), rational(42, 1), rational(205, 10))
    gps[3], gps[4] = "E", (rational(110, 1), rational(36, 1), rational(102, 10))
    image = Image.new("RGB", (640, 480), (120, 150, 170))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 330, 640, 480), fill=(110, 105, 95))  # the workshop floor
    draw.rectangle((150, 170, 470, 360), fill=(70, 90, 110), outline=(20, 20, 20), width=4)
    draw.rectangle((190, 200, 300, 260), fill=(200, 210, 215))  # the machine's panel
    draw.ellipse((340, 200, 420, 280), fill=(40, 40, 40))  # its chuck
    image.save(path, "JPEG", quality=85, exif=exif)
    return path


def passed_review(page, live_server, case: Application) -> None:
    page.goto(f"{live_server.url}/office/cases/{case.pk}/")
    for action in ("Mulai verifikasi", "Nyatakan lolos verifikasi administrasi"):
        page.get_by_role("link", name=action, exact=True).click()
        page.get_by_label("Saya telah memeriksa").check()
        page.get_by_role("button", name=action, exact=True).click()
    expect(page.get_by_text("kasus ini sekarang Verifikasi lapangan")).to_be_visible()


def test_the_officers_take_a_case_from_the_queue_to_the_bank(desk, live_server, tmp_path):
    page = desk
    applicant = UserFactory(username="ani", roles=[APPLICANT])
    verifier = UserFactory(username="citra", roles=[VERIFIER])
    approver = UserFactory(username="eka", roles=[APPROVER])
    finance = UserFactory(username="fajar", roles=[FINANCE])
    programme = ProgrammeFactory()
    for number in range(3):
        other = UserFactory(username=f"pemilik{number}", roles=[APPLICANT])
        case_with_machines(programme, CompanyFactory(members=[other]), other, machines=1)
    company = CompanyFactory(name="CV Logam Klaten", members=[applicant])
    case = case_with_machines(programme, company, applicant, machines=2, readable=True)
    # Another case the approver finds recommended, from another verifier.
    neighbour = put_in_state(
        Application.objects.create(
            programme=programme, company=CompanyFactory(name="UD Sinar Tegal")
        ),
        S.RECOMMENDED,
    )

    # --- The verifier: the queue, the case, a document beside its machine, a revision ---
    log_in(page, live_server, verifier)
    page.goto(live_server.url + "/office/")
    expect(page.get_by_role("heading", name="Meja kerja")).to_be_visible()
    check_page(page)
    # Filtering swaps the table in place and keeps the filter in the address.
    page.fill("#id_search", company.nib)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/office/?search={company.nib}")
    expect(page.locator("#workbench-table tbody tr")).to_have_count(1)
    snapshot(page, "workbench")

    page.get_by_role("link", name=case.reference).click()
    expect(page.get_by_role("heading", name=f"{case.reference} · CV Logam Klaten")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Mulai verifikasi").click()
    page.get_by_label("Saya telah memeriksa").check()
    page.get_by_role("button", name="Mulai verifikasi").click()
    expect(page.get_by_text("kasus ini sekarang Verifikasi administrasi")).to_be_visible()

    # The invoice of each machine is shown inside its machine's card, from the checked view.
    machine = page.locator("article.machine").nth(1)
    frame = machine.locator("iframe.document-frame")
    expect(frame).to_have_count(1)
    invoice = case.documents.get(item=case.items.order_by("id")[1], kind="invoice")
    expect(frame).to_have_attribute("src", f"/office/documents/{invoice.pk}/")
    photo_preview = machine.locator("img.document-image")
    expect(photo_preview).to_be_visible()
    assert photo_preview.evaluate("img => img.complete && img.naturalWidth") > 0
    framed = page.request.get(f"{live_server.url}/office/documents/{invoice.pk}/")
    assert (framed.status, framed.headers["content-type"]) == (200, "application/pdf")
    check_page(page)
    snapshot(page, "case")

    page.get_by_role("link", name="Minta perbaikan").click()
    page.get_by_label("Alasan (wajib)").fill("Faktur mesin 2 tidak terbaca; unggah ulang.")
    page.get_by_label("Saya telah memeriksa").check()
    check_page(page)
    page.get_by_role("button", name="Minta perbaikan").click()
    expect(page.get_by_text("kasus ini sekarang Perlu perbaikan")).to_be_visible()
    case.refresh_from_db()
    assert case.status == S.REVISION_REQUESTED

    # --- The applicant's fix, through the services: the invoice again, then resubmitted ---
    document_services.document_delete(document=invoice, by=applicant)
    document_services.document_upload(
        application=case,
        by=applicant,
        kind="invoice",
        file=SimpleUploadedFile(
            "faktur-mesin-2-ulang.pdf",
            sample_pdf("Faktur (pindaian ulang)", ("CV Logam Klaten", "Mesin 2")),
            content_type="application/pdf",
        ),
        item=invoice.item,
    )
    workflow.application_submit(application=case, by=applicant)

    # --- The verifier again: review passed, the site visit recorded with a camera photo ---
    passed_review(page, live_server, case)
    page.get_by_role("link", name="Catat kunjungan lapangan, dengan foto").click()
    expect(
        page.get_by_role("heading", name=f"Kunjungan lapangan: {case.reference}")
    ).to_be_visible()
    check_page(page)
    page.get_by_label("Tempat", exact=True).fill("Bengkel CV Logam Klaten, Jl. Raya Solo 17, Ceper")
    for answer in (
        "Mesin ada di lokasi",
        "Mesin dalam keadaan baru",
        "Mesin sudah terpasang",
        "Mesin tidak dipindahtangankan kepada pihak lain",
    ):
        page.get_by_label(answer).check()
    page.get_by_label("Catatan (opsional)").fill("Kedua mesin terpasang dan dipakai produksi.")
    page.get_by_label("Foto", exact=True).set_input_files(
        str(camera_photo(tmp_path / "IMG_0412.jpg"))
    )
    page.get_by_role("button", name="Catat kunjungan", exact=True).click()
    expect(page.get_by_text("Kunjungan lapangan tercatat.")).to_be_visible()

    photo = SiteVisitPhoto.objects.get(visit__application=case)
    shown = page.locator("article.site-visit figure.visit-photo")
    expect(shown.locator("img.visit-photo-image")).to_be_visible()
    assert shown.locator("img").evaluate("img => img.naturalWidth") == 640
    expect(shown.locator("[data-photo-position] a")).to_have_text(POSITION)
    expect(shown.locator("[data-photo-position] a")).to_have_attribute(
        "href", "geo:" + POSITION.replace(", ", ",")
    )
    expect(shown.locator("[data-photo-time]")).to_have_text(long_datetime(photo.taken_at, "id"))
    check_page(page)
    # By keyboard: from the photo, Tab reaches its position, and the focus ring shows.
    shown.locator("a").first.focus()
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(el => [el.textContent, getComputedStyle(el).outlineStyle])(document.activeElement)"
    )
    assert focused == [POSITION, "solid"]

    # Recommending starts from the visit: its four answers, already ticked.
    page.get_by_role("link", name="Rekomendasikan, berdasarkan kunjungan terakhir").click()
    expect(page.locator("[data-visit-prefilled]")).to_contain_text(
        "Daftar periksa diisi dari kunjungan lapangan terakhir"
    )
    for name in ("machines_present", "machines_new", "machines_installed", "not_transferred"):
        expect(page.locator(f"#id_{name}")).to_be_checked()
    page.get_by_label("Saya telah memeriksa").check()
    check_page(page)
    page.get_by_role("button", name="Rekomendasikan", exact=True).click()
    expect(page.get_by_text("kasus ini sekarang Direkomendasikan")).to_be_visible()
    # The site visit is on the case page too, read-only, and the recommendation names it.
    expect(page.locator("article.site-visit [data-photo-position]")).to_have_text(POSITION)
    entry = AuditEntry.objects.get(application_id=case.pk, action="recommend")
    assert entry.changes["site_visit"] == [None, photo.visit_id]

    # --- The approver: the budget meter, both recommended cases approved at once ---
    log_in(page, live_server, approver)
    page.goto(live_server.url + "/office/")
    expect(page.get_by_role("heading", name="Anggaran Program")).to_be_visible()
    expect(page.locator("progress.budget-bar")).to_have_attribute("value", "0")
    check_page(page)
    case.refresh_from_db()
    page.get_by_label(f"Pilih {case.reference}").check()
    page.get_by_label(f"Pilih {neighbour.reference}").check()
    page.get_by_role("button", name="Setujui yang dipilih").click()
    expect(page.get_by_text("Anda akan menyetujui 2 permohonan")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Setujui permohonan ini").click()
    expect(page.locator("p.lead")).to_contain_text("2 disetujui")
    rows = page.locator("table.bulk-results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Disetujui")
    expect(rows.nth(1)).to_contain_text("Disetujui")
    # The meter beside the results counts both reservations.
    reserved = case.computed_discount + neighbour.computed_discount
    expect(page.locator("progress.budget-bar")).to_have_attribute("value", str(reserved))
    check_page(page)

    # --- Finance: the transfer batch of both, then the bank's result, row by row ---
    log_in(page, live_server, finance)
    page.goto(live_server.url + "/office/finance/")
    expect(page.get_by_role("heading", name="Keuangan: pembayaran")).to_be_visible()
    check_page(page)
    page.get_by_label(f"Pilih {case.reference}").check()
    page.get_by_label(f"Pilih {neighbour.reference}").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Unduh batch transfer (CSV)").click()
    batch = list(csv.reader(io.StringIO(download.value.path().read_bytes().decode("utf-8-sig"))))
    assert batch[0] == ["reference", "company", "bank", "account_number", "account_name", "amount"]
    rows_by_reference = {row[0]: row for row in batch[1:]}
    assert set(rows_by_reference) == {case.reference, neighbour.reference}
    case.refresh_from_db()
    assert rows_by_reference[case.reference] == [
        case.reference,
        "CV Logam Klaten",
        case.payout_bank_name,
        case.payout_account_number,
        case.payout_account_name,
        str(case.approved_amount),
    ]

    result = tmp_path / "hasil-bank.csv"
    result.write_text(
        "reference,transfer_reference,transferred_on\n"
        f"{case.reference},BRI-0001,2026-01-05\n"
        f"{neighbour.reference},BRI-0002,2026-01-05\n"
        f"RMP-{programme.year}-999999,BRI-0003,2026-01-05\n"
    )
    page.set_input_files("#id_file", str(result))
    page.get_by_role("button", name="Unggah dan catat").click()
    expect(page.get_by_text("2 dicatat, 1 ditolak.")).to_be_visible()
    results = page.locator("[data-transfer-results] tbody tr")
    expect(results.nth(0)).to_contain_text("Dicatat: transfer BRI-0001 pada 2026-01-05.")
    expect(results.nth(1)).to_contain_text("Dicatat: transfer BRI-0002 pada 2026-01-05.")
    expect(results.nth(2)).to_contain_text("Ditolak")
    check_page(page)
    statuses = dict(Application.objects.values_list("pk", "status"))
    assert (statuses[case.pk], statuses[neighbour.pk]) == (S.DISBURSED, S.DISBURSED)
