"""ClamAV in CI: a clamd of our own (loopback, the EICAR-only signature database in
tests/clamav/), timed through subsidy.scanning as the scan job uses it. Prints its figures and
exits non-zero when EICAR is not found, a clean file is not clean, or a scanner that is down is
not reported down within /healthz's time limit."""

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"

import django

django.setup()

from django.conf import settings  # noqa: E402

from config.health import HEALTH_TIMEOUT  # noqa: E402
from subsidy import scanning  # noqa: E402
from tests.clamd_server import ClamdServer, eicar  # noqa: E402

ROUNDS = 5
failures = []


def timed(content: bytes) -> tuple[str | None, float]:
    """(what clamd found, median milliseconds over ROUNDS scans)."""
    found, times = None, []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        found = scanning.scan_stream(io.BytesIO(content))
        times.append((time.perf_counter() - started) * 1000)
    return found, statistics.median(times)


with tempfile.TemporaryDirectory() as folder:
    server = ClamdServer(Path(folder))
    settings.CLAMAV_ADDRESS = server.address
    started = time.perf_counter()
    server.start(timeout=120)
    print(f"clamd up (PING answered) in {time.perf_counter() - started:.2f} s at {server.address}")
    try:
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        big = b"%PDF-1.4\n" + os.urandom(10 * 1024 * 1024 - 64)
        cases = [
            ("clean PDF, 43 B", pdf, None),
            ("EICAR inside a PDF, 120 B", b"%PDF-1.4\n%" + eicar() + b"\n%%EOF\n", "IKM.Test"),
            ("clean file, 10 MB", big, None),
            ("EICAR at the end of 10 MB", big + eicar(), "IKM.Test"),
        ]
        for name, content, expected in cases:
            found, ms = timed(content)
            ok = (found is None) if expected is None else bool(found and expected in found)
            print(
                f"{name:28} -> {found or 'clean':28} median {ms:7.1f} ms  {'ok' if ok else 'WRONG'}"
            )
            if not ok:
                failures.append(name)
    finally:
        server.stop()
    started = time.perf_counter()
    reply = scanning.ping(timeout=HEALTH_TIMEOUT)
    elapsed = time.perf_counter() - started
    down = reply not in {"ok", "off"}
    print(f"scanner stopped: ping says down={down} in {elapsed * 1000:.0f} ms ({reply[:60]}...)")
    if not down or elapsed > HEALTH_TIMEOUT:
        failures.append("down not reported in time")

print("clamav figures: " + ("ok" if not failures else "FAILED " + ", ".join(failures)))
sys.exit(1 if failures else 0)
