"""Two web processes and two workers share one bucket and keep nothing on their own disk.

Run by .ci/s3-two-hosts (which sets the environment). It starts a local S3 server (moto's
server mode on 127.0.0.1), two gunicorn processes with the production settings on ports 8771
and 8772 and two Celery workers, each with its own empty PRIVATE_MEDIA_ROOT, all pointed at one
bucket. Then, through the API only:

- an applicant uploads a document on :8771 and downloads it on :8772 (a redirect to a signed
  URL there) and on :8771 (streamed): byte-identical;
- an auditor asks for a background export on :8772; a worker writes it to the bucket; it is
  downloaded on :8771 and :8772 and matches the SHA-256 the worker recorded;
- the object's plain URL, without a signature, is refused by the store;
- no process wrote a file under its own PRIVATE_MEDIA_ROOT.

It prints its figures and exits non-zero on any mismatch; every wait is bounded, and every
process it started is stopped when it ends, however it ends.
"""

import atexit
import hashlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY, MotoS3  # noqa: E402

PORTS = (8771, 8772)
BIN = Path(sys.executable).parent
HTTP_TIMEOUT = 30
STARTED: list[subprocess.Popen] = []
LOGS: list[Path] = []


def stop_all() -> None:
    for process in reversed(STARTED):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
    deadline = time.monotonic() + 15
    for process in STARTED:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def fail(message: str) -> None:
    print(f"s3-two-hosts: FAILED: {message}")
    for log in LOGS:
        if log.exists():
            print(f"--- last lines of {log.name}")
            print("\n".join(log.read_text(errors="replace").splitlines()[-25:]))
    sys.exit(1)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def start(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
    log = log_dir / f"{name}.log"
    LOGS.append(log)
    with open(log, "wb") as out:
        STARTED.append(
            subprocess.Popen(  # noqa: S603 - our own commands, no shell
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped whole
            )
        )


def wait_for(what: str, probe, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.5)
    fail(f"{what} not within {timeout:.0f} s")


def files_under(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log_dir = Path(tempfile.mkdtemp(prefix="s3-two-hosts-"))
    began = time.monotonic()

    moto = MotoS3(log_dir / "moto.log")
    LOGS.append(moto.log_path)
    moto.start()
    STARTED.append(moto.process)
    bucket = moto.new_bucket()
    print(f"s3 store: moto server at {moto.endpoint_url}, bucket {bucket}")

    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DOCUMENTS_S3_BUCKET": bucket,
        "DOCUMENTS_S3_ENDPOINT_URL": moto.endpoint_url,
        "DOCUMENTS_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "DOCUMENTS_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "DOCUMENTS_S3_REGION": REGION,
        "DOCUMENTS_S3_URL_SECONDS": "60",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=base,
        check=True,
        timeout=300,
    )

    roots = {}
    for number, port in enumerate(PORTS, start=1):
        roots[f"web{number}"] = Path(tempfile.mkdtemp(prefix=f"s3-web{number}-"))
        env = {
            **base,
            "PRIVATE_MEDIA_ROOT": str(roots[f"web{number}"]),
            # :8771 streams downloads, :8772 redirects them to a signed URL.
            "DOCUMENTS_S3_REDIRECT": "1" if port == 8772 else "0",
        }
        start(
            f"web{number}",
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
            ],
            env,
            log_dir,
        )
    for number in (1, 2):
        roots[f"worker{number}"] = Path(tempfile.mkdtemp(prefix=f"s3-worker{number}-"))
        env = {**base, "PRIVATE_MEDIA_ROOT": str(roots[f"worker{number}"])}
        start(
            f"worker{number}",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config.celery_app",
                "worker",
                "-n",
                f"s3-worker{number}@%h",
                "--concurrency",
                "1",
                "--prefetch-multiplier",
                "1",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            env,
            log_dir,
        )

    def healthy(port: int):
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        except requests.RequestException:
            return None
        body = answer.json() if answer.status_code in (200, 503) else {}
        return body if body.get("storage") == "ok" and body.get("broker") == "ok" else None

    for port in PORTS:
        print(
            f"healthz :{port}: {wait_for(f'/healthz ok on :{port}', lambda p=port: healthy(p), 90)}"
        )
    for number in (1, 2):
        log = log_dir / f"worker{number}.log"
        wait_for(f"worker{number} ready", lambda log=log: b" ready." in log.read_bytes(), 90)
    print(f"started: moto, 2 web processes, 2 workers in {time.monotonic() - began:.1f} s")

    # The people, made as an operator's shell would (the same database, the same settings).
    os.environ.update({**base, "PRIVATE_MEDIA_ROOT": str(log_dir / "driver-media")})
    import django

    django.setup()
    from accounts.roles import APPLICANT, AUDITOR
    from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
    from tests.utils import totp_code

    run = uuid.uuid4().hex[:8]
    applicant = UserFactory(username=f"s3-applicant-{run}", roles=[APPLICANT])
    # The CI database outlives a run: a NIB of this run's own (the factory counts from one).
    company = CompanyFactory(members=[applicant], nib=f"8{secrets.randbelow(10**12):012d}")
    programme = ProgrammeFactory()
    auditor = UserFactory(username=f"s3-auditor-{run}", roles=[AUDITOR])

    def token(port: int, user, **extra: str) -> dict[str, str]:
        answer = requests.post(
            f"http://127.0.0.1:{port}/api/v1/auth/token/",
            json={"username": user.username, "password": "Pw-for-tests-1", **extra},
            timeout=HTTP_TIMEOUT,
        )
        check(answer.status_code == 200, f"token on :{port}: {answer.status_code} {answer.text}")
        return {"Authorization": f"Token {answer.json()['token']}"}

    web1, web2 = (f"http://127.0.0.1:{port}" for port in PORTS)
    owner = token(PORTS[0], applicant)
    answer = requests.post(
        f"{web1}/api/v1/applications/",
        json={"programme": programme.pk, "company": company.pk},
        headers=owner,
        timeout=HTTP_TIMEOUT,
    )
    check(answer.status_code == 201, f"application on :8771: {answer.status_code} {answer.text}")
    application_id = answer.json()["id"]

    # A PDF of 256 KiB, random after its header: any change in transit shows in the hash.
    content = b"%PDF-1.4\n" + secrets.token_bytes(256 * 1024) + b"\n%%EOF\n"
    answer = requests.post(
        f"{web1}/api/v1/applications/{application_id}/documents/",
        data={"kind": "invoice"},
        files={"file": ("faktur.pdf", content, "application/pdf")},
        headers=owner,
        timeout=HTTP_TIMEOUT,
    )
    check(answer.status_code == 201, f"upload on :8771: {answer.status_code} {answer.text}")
    document = answer.json()
    keys = moto.keys(bucket)
    check(len(keys) == 1, f"bucket holds {keys} after one upload")
    check(moto.read(bucket, keys[0]) == content, "the object differs from the upload")
    print(
        f"upload on :8771: document {document['id']}, {len(content)} bytes -> s3://{bucket}/{keys[0]}"
    )

    started = time.monotonic()
    redirect = requests.get(
        f"{web2}{document['download_url']}", headers=owner, allow_redirects=False, timeout=30
    )
    check(redirect.status_code == 302, f"download on :8772 answered {redirect.status_code}")
    location = redirect.headers["Location"]
    check(location.startswith(f"{moto.endpoint_url}/{bucket}/"), f"redirect to {location}")
    check("no-store" in redirect.headers.get("Cache-Control", ""), "redirect may be cached")
    expires = parse_qs(urlsplit(location).query).get("X-Amz-Expires")
    check(expires == ["60"], f"signed URL valid {expires} s, not 60")
    followed = requests.get(location, timeout=HTTP_TIMEOUT)  # no token: the signature is all
    check(followed.status_code == 200, f"signed URL answered {followed.status_code}")
    check(followed.content == content, "download on :8772 differs from the upload")
    disposition = followed.headers.get("Content-Disposition", "")
    check(
        re.fullmatch(
            rf'attachment; filename="faktur-permohonan-{application_id}-\d+\.pdf"', disposition
        )
        is not None,
        f"served as {disposition!r}",
    )
    print(
        f"download on :8772: 302 -> signed URL (X-Amz-Expires={expires[0]}), "
        f"{len(followed.content)} bytes, "
        f"sha256 {sha(followed.content)[:16]} = upload's, {disposition!r}, "
        f"{time.monotonic() - started:.2f} s"
    )
    streamed = requests.get(f"{web1}{document['download_url']}", headers=owner, timeout=30)
    check(streamed.status_code == 200 and streamed.content == content, "stream on :8771 differs")
    print(f"download on :8771: streamed, {len(streamed.content)} bytes, identical")

    unsigned = requests.get(f"{moto.endpoint_url}/{bucket}/{keys[0]}", timeout=HTTP_TIMEOUT)
    check(unsigned.status_code == 403, f"unsigned read answered {unsigned.status_code}")
    print(f"unsigned GET of the object: {unsigned.status_code}")

    staff = token(PORTS[1], auditor, otp=totp_code(auditor))
    started = time.monotonic()
    answer = requests.post(
        f"{web2}/api/v1/exports/",
        json={"kind": "applications", "format": "csv"},
        headers=staff,
        timeout=HTTP_TIMEOUT,
    )
    check(answer.status_code == 202, f"export on :8772: {answer.status_code} {answer.text}")
    export_id = answer.json()["id"]

    def export_done():
        record = requests.get(f"{web1}/api/v1/exports/{export_id}/", headers=staff, timeout=10)
        body = record.json()
        check(body["status"] != "failed", f"export failed: {body}")
        return body if body["status"] == "done" else None

    record = wait_for(f"export {export_id} done", export_done, 120)
    waited = time.monotonic() - started
    ran_by = [
        name
        for name in ("worker1", "worker2")
        if re.search(
            r"subsidy\.tasks\.run_export\[[^\]]+\] succeeded.*'done'",
            (log_dir / f"{name}.log").read_text(errors="replace"),
        )
    ]
    check(len(ran_by) == 1, f"the export was run by {ran_by or 'no worker that logged it'}")
    export_keys = [key for key in moto.keys(bucket) if key.startswith("exports/")]
    check(len(export_keys) == 1, f"bucket exports: {export_keys}")
    file_one = requests.get(
        f"{web1}/api/v1/exports/{export_id}/download/", headers=staff, timeout=30
    )
    file_two = requests.get(
        f"{web2}/api/v1/exports/{export_id}/download/", headers=staff, timeout=30
    )
    check(file_one.status_code == 200, f"export download on :8771: {file_one.status_code}")
    check(file_two.status_code == 200, f"export download on :8772: {file_two.status_code}")
    check(sha(file_one.content) == record["sha256"], "export on :8771 differs from its record")
    check(file_two.content == file_one.content, "export on :8772 differs from :8771")
    check(len(file_two.history) == 1 and file_two.history[0].status_code == 302, "no redirect")
    print(
        f"export {export_id}: asked on :8772, written by {ran_by[0]} to s3://{bucket}/"
        f"{export_keys[0]} in {waited:.1f} s, {record['rows']} rows, "
        f"{len(file_one.content)} bytes; "
        f"downloaded on :8771 (streamed) and :8772 (redirect), sha256 {record['sha256'][:16]} both"
    )

    local = {name: files_under(folder) for name, folder in roots.items()}
    check(not any(local.values()), f"files on a process's own disk: {local}")
    print(f"files under each process's PRIVATE_MEDIA_ROOT: {local}")
    print(f"s3-two-hosts: ok in {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    main()
