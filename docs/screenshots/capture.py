"""Phone-width screenshots of the applicant's pages, taken from the running demo.

Start the demo (`make run`) in another terminal, then `make screenshots`. The demo applicant
logs in and the dashboard, the task list of their draft, the machine form, the documents and
check answers are saved here as PNGs (390x844, Debian's Chromium). Then the demo auditor's
programme report (desk width, 1280) and a visitor's public statistics (a 360 px phone); with
figures in them once the demo has paid cases (`manage.py seed_demo --applications 600`).
"""

import argparse
import os
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 800}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--username", default="pemohon")
    parser.add_argument("--password", default="Demo-pemohon-2026")
    parser.add_argument("--auditor", default="auditor")
    parser.add_argument("--auditor-password", default="Demo-auditor-2026")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
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
