"""Screenshots of the pages for the docs, taken from the running demo.

Start the demo (`make run`) in another terminal, then `make screenshots`. The demo applicant
logs in and the dashboard, the task list of their draft, the machine form, the documents and
check answers are saved here as phone-width PNGs (390x844, Debian's Chromium). Then the demo
officers at a desk (1366 wide): the verifier records a site visit on a case of theirs in field
verification, with a camera photo carrying EXIF time and GPS (made here with Pillow), and the
visit page is saved; finance uploads a bank result for an approved case (one row recorded, one
refused) and the page of results is saved. Both change the demo data, as an officer would:
run it again and it reuses the recorded visit. `--pages office` takes only the officers' pages.
Then the demo auditor's programme report (desk width) and a visitor's public statistics (a
360 px phone); with figures in them once the demo has paid cases
(`manage.py seed_demo --applications 600`).
"""

import argparse
import datetime as dt
import io
import os
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, TiffImagePlugin
from playwright.sync_api import Browser, Page, sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}
DESK = {"width": 1366, "height": 768}
# The demo officers of `manage.py load_demo` (local only, listed in the README).
VERIFIER = ("verifikator", "Demo-verifikator-2026")
FINANCE = ("keuangan", "Demo-keuangan-2026")


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def save(page: Page, target: Path) -> None:
    page.screenshot(path=str(target), full_page=True, type="png")
    sys.stdout.write(f"{target} ({target.stat().st_size // 1024} KB)\n")


def camera_photo() -> bytes:
    """A JPEG as a phone's camera leaves it: EXIF time (WIB) and GPS (Ceper, Klaten)."""
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    details = exif.get_ifd(0x8769)
    details[0x9003] = "2026:03:05 10:15:30"  # DateTimeOriginal
    details[0x9011] = "+07:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (rational(7, 1), rational(42, 1), rational(205, 10))
    gps[3], gps[4] = "E", (rational(110, 1), rational(36, 1), rational(102, 10))
    image = Image.new("RGB", (640, 480), (120, 150, 170))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 330, 640, 480), fill=(110, 105, 95))
    draw.rectangle((150, 170, 470, 360), fill=(70, 90, 110), outline=(20, 20, 20), width=4)
    draw.rectangle((190, 200, 300, 260), fill=(200, 210, 215))
    draw.ellipse((340, 200, 420, 280), fill=(40, 40, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def office_pages(browser: Browser, base: str, out: Path) -> int:
    """The site visit with its photo's EXIF time and position, and finance's upload results."""
    page = browser.new_page(viewport=DESK, locale="id-ID")
    log_in(page, base, *VERIFIER)
    page.goto(f"{base}/office/?status=field_verification")
    link = page.locator("#workbench-table tbody a[href^='/office/cases/']").first
    if link.count() == 0:
        sys.stderr.write(f"{VERIFIER[0]} has no case in field verification: run `make run`.\n")
        return 1
    case = re.match(r"/office/cases/(\d+)/", link.get_attribute("href")).group(1)
    page.goto(f"{base}/office/cases/{case}/site-visit/")
    if page.locator("article.site-visit").count() == 0:
        page.fill("#id_place", "Bengkel produksi, Jl. Raya Solo No. 17, Ceper, Klaten")
        for box in page.locator("fieldset input[type=checkbox]").all():
            box.check()
        page.fill("#id_notes", "Mesin terpasang, baru, dan dipakai produksi.")
        page.set_input_files(
            "#id_photos",
            files=[{"name": "IMG_0412.jpg", "mimeType": "image/jpeg", "buffer": camera_photo()}],
        )
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    page.locator("img.visit-photo-image").first.wait_for()
    save(page, out / "office-site-visit.png")

    log_in(page, base, *FINANCE)
    page.goto(f"{base}/office/finance/")
    references = page.locator("form input[name=case]").count()
    if references == 0:
        sys.stderr.write(f"{FINANCE[0]} has no approved case waiting: run `make run`.\n")
        return 1
    row = page.locator("form tbody tr").first
    reference = row.locator("td").nth(1).inner_text().strip()
    year = reference.split("-")[1]
    today = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    result = (
        "reference,transfer_reference,transferred_on\n"
        f"{reference},SP2D/{year}/00001234,{today}\n"
        f"RMP-{year}-999999,SP2D/{year}/00001235,{year}-01-05\n"
        f"{reference},SP2D/{year}/00001236,{year}-13-01\n"
    )
    page.set_input_files(
        "#id_file",
        files=[{"name": "hasil-bank.csv", "mimeType": "text/csv", "buffer": result.encode()}],
    )
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_load_state()
    save(page, out / "office-finance-upload.png")
    page.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--username", default="pemohon")
    parser.add_argument("--password", default="Demo-pemohon-2026")
    parser.add_argument("--auditor", default="auditor")
    parser.add_argument("--auditor-password", default="Demo-auditor-2026")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--pages", choices=["all", "applicant", "office"], default="all")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        if args.pages in ("all", "office"):
            failed = office_pages(browser, base, args.out)
            if failed or args.pages == "office":
                browser.close()
                return failed
        page = browser.new_page(viewport=PHONE, locale="id-ID")
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_login", args.username)
        page.fill("#id_password", args.password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        page.goto(f"{base}/dashboard/")
        links = page.locator("main a[href^='/applications/']")
        if links.count() == 0:
            sys.stderr.write(
                f"{args.username} has no application: run `make run` (load_demo) first.\n"
            )
            return 1
        href = links.first.get_attribute("href")
        case = re.match(r"/applications/(\d+)/", href).group(1)

        def shoot(name: str, path: str) -> None:
            page.goto(f"{base}{path}")
            target = args.out / f"{name}.png"
            page.screenshot(path=str(target), full_page=True, type="png")
            sys.stdout.write(f"{target} ({target.stat().st_size // 1024} KB)\n")

        shoot("dashboard", "/dashboard/")
        shoot("task-list", f"/applications/{case}/")
        shoot("machine-form", f"/applications/{case}/machines/add/")
        shoot("documents", f"/applications/{case}/documents/")
        shoot("check-answers", f"/applications/{case}/check-answers/")

        # The auditor's programme report at a desk.
        page = browser.new_page(viewport=DESK, locale="id-ID")
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_login", args.auditor)
        page.fill("#id_password", args.auditor_password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        shoot("reports", "/office/reports/")

        # A visitor's public statistics on a small phone.
        page = browser.new_page(viewport=SMALL_PHONE, locale="id-ID")
        shoot("statistics", "/statistics/")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
