"""Start-up configuration: bad or missing environment ends in one line naming the variable.

Each test runs manage.py in a subprocess, as an operator would, with an environment cleared of
every variable the settings read, so the developer's shell cannot change the outcome.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Every variable config/settings reads, plus the ones the Makefile and commands read.
SETTINGS_VARIABLES = (
    # Set by the browser tests while Playwright runs; never part of a deployment.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "SITE_URL",
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "REDIS_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "PRIVATE_MEDIA_ROOT",
    "DOCUMENT_MAX_MB",
    "CASE_SLA_DAYS",
    "NOTICE_LEASE_SECONDS",
    "AUDIT_HMAC_KEY",
    "CELERY_TASK_SOFT_TIME_LIMIT",
    "CELERY_TASK_TIME_LIMIT",
    "THROTTLE_AUTH",
    "THROTTLE_REGISTER",
    "THROTTLE_UPLOAD",
    "LOG_LEVEL",
    "REQUIRE_SERVICES",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SECURE_HSTS_SECONDS",
    "DJANGO_SECURE_HSTS_PRELOAD",
    "TEST_EMAIL_FILE_PATH",
    "DOCUMENTS_S3_BUCKET",
    "DOCUMENTS_S3_ENDPOINT_URL",
    "DOCUMENTS_S3_ACCESS_KEY_ID",
    "DOCUMENTS_S3_SECRET_ACCESS_KEY",
    "DOCUMENTS_S3_REGION",
    "DOCUMENTS_S3_REDIRECT",
    "DOCUMENTS_S3_URL_SECONDS",
)

UNREACHABLE_DATABASE_URL = "postgres://postgres@127.0.0.1:1/nope"
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


def manage(
    *args: str, settings: str = "config.settings.local", **variables: str
) -> subprocess.CompletedProcess:
    """Run manage.py with only ``variables`` set among the settings' variables."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = settings
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_environment(tmp_path: Path) -> dict[str, str]:
    """Everything production requires, with values an operator would give."""
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "example.go.id",
        "EMAIL_URL": "smtp://mail:1025",
        # check --deploy does not connect: the URL only has to name PostgreSQL.
        "DATABASE_URL": "postgres://ikm:secret@db.internal:5432/ikm",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
        "SITE_URL": "https://ikm.example.go.id",
    }


def stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "nonsense"),
        ("DATABASE_URL", "mysql://x/y"),
        ("DATABASE_URL", "postgres://"),
        ("DATABASE_CONN_MAX_AGE", "forever"),
        ("DOCUMENT_MAX_MB", "ten"),
        ("CASE_SLA_DAYS", "two weeks"),
        ("NOTICE_LEASE_SECONDS", "2m"),
        ("REQUIRE_SERVICES", "maybe"),
        ("REDIS_URL", "http://x"),
        ("EMAIL_URL", "nonsense"),
        ("CELERY_TASK_TIME_LIMIT", "long"),
        ("DJANGO_DEBUG", "maybe"),
        ("LOG_LEVEL", "LOUD"),
        ("THROTTLE_AUTH", "twenty"),
        ("DOCUMENTS_S3_REDIRECT", "maybe"),
        ("DOCUMENTS_S3_URL_SECONDS", "a minute"),
        ("DOCUMENTS_S3_URL_SECONDS", "0"),
    ],
)
def test_malformed_variable_stops_start_up_with_one_line_naming_it(
    variable: str, value: str
) -> None:
    result = manage("check", **{variable: value})

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_local_settings_pass_the_system_check_without_any_environment() -> None:
    result = manage("check")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.fixture(scope="module")
def local_defaults() -> dict:
    """The local settings as `make run` sees them on a bare machine."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
        "'name': str(s.DATABASES['default']['NAME']), "
        "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, "
        "'email': s.EMAIL_BACKEND, 'time_zone': s.TIME_ZONE, "
        "'language': s.LANGUAGE_CODE, 'debug': s.DEBUG}))"
    )
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_local_default_database_is_a_sqlite_file_in_the_project(local_defaults: dict) -> None:
    assert local_defaults["engine"] == "django.db.backends.sqlite3"
    assert local_defaults["name"] == str(ROOT / "db.sqlite3")


def test_local_default_runs_celery_tasks_eagerly_in_process(local_defaults: dict) -> None:
    assert local_defaults["eager"] is True
    assert local_defaults["broker"] == "memory://"


def test_local_default_prints_e_mail_to_the_console(local_defaults: dict) -> None:
    assert local_defaults["email"] == "django.core.mail.backends.console.EmailBackend"


def test_local_default_is_indonesian_on_jakarta_time(local_defaults: dict) -> None:
    assert local_defaults["language"] == "id"
    assert local_defaults["time_zone"] == "Asia/Jakarta"


def test_local_default_has_debug_on(local_defaults: dict) -> None:
    assert local_defaults["debug"] is True


@pytest.mark.parametrize("secret_key", ["", "too-short"])
def test_production_refuses_to_start_without_a_long_secret_key(
    tmp_path: Path, secret_key: str
) -> None:
    variables = production_environment(tmp_path)
    variables["DJANGO_SECRET_KEY"] = secret_key

    result = manage("check", settings="config.settings.production", **variables)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert stderr_lines(result) == [
        "Configuration error: DJANGO_SECRET_KEY must be set in production "
        "(50 or more random characters)."
    ]


@pytest.mark.parametrize(
    "variable",
    [
        "AUDIT_HMAC_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "EMAIL_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "SITE_URL",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(
    tmp_path: Path, variable: str
) -> None:
    variables = production_environment(tmp_path)
    del variables[variable]

    result = manage("check", settings="config.settings.production", **variables)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


@pytest.mark.parametrize("site_url", ["ikm.example.go.id", "ftp://ikm.example.go.id", " "])
def test_production_refuses_a_site_url_that_is_no_web_address(
    tmp_path: Path, site_url: str
) -> None:
    variables = {**production_environment(tmp_path), "SITE_URL": site_url}

    result = manage("check", settings="config.settings.production", **variables)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: SITE_URL must be set in production")


def test_production_refuses_debug_on(tmp_path: Path) -> None:
    result = manage(
        "check",
        settings="config.settings.production",
        DJANGO_DEBUG="1",
        **production_environment(tmp_path),
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert stderr_lines(result) == [
        "Configuration error: DJANGO_DEBUG must not be on in production."
    ]


def test_production_with_every_required_variable_passes_the_deploy_check(
    tmp_path: Path,
) -> None:
    result = manage(
        "check",
        "--deploy",
        settings="config.settings.production",
        **production_environment(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    # Any warning (security.W*, drf_spectacular.W*) is a finding to fix, not to silence here.
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


S3_VARIABLES = {
    "DOCUMENTS_S3_BUCKET": "ikm-documents",
    "DOCUMENTS_S3_ENDPOINT_URL": "http://minio.internal:9000",
    "DOCUMENTS_S3_ACCESS_KEY_ID": "ikm-app",
    "DOCUMENTS_S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(32),
    "DOCUMENTS_S3_REGION": "us-east-1",
}


@pytest.mark.parametrize(
    "missing", ["DOCUMENTS_S3_ACCESS_KEY_ID", "DOCUMENTS_S3_SECRET_ACCESS_KEY"]
)
def test_production_refuses_a_bucket_without_its_keys(tmp_path: Path, missing: str) -> None:
    variables = {**production_environment(tmp_path), **S3_VARIABLES}
    del variables[missing]

    result = manage("check", settings="config.settings.production", **variables)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]


def test_production_with_a_bucket_passes_the_deploy_check_and_stores_there(
    tmp_path: Path,
) -> None:
    """No store is contacted at start-up; the documents' storage is the private bucket."""
    variables = {**production_environment(tmp_path), **S3_VARIABLES}
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['documents']))"
    )

    checked = manage("check", "--deploy", settings="config.settings.production", **variables)
    shown = manage("shell", "-c", script, settings="config.settings.production", **variables)

    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues" in checked.stdout
    documents = json.loads(shown.stdout.strip().splitlines()[-1])
    assert documents["BACKEND"] == "subsidy.storage_s3.PrivateS3Storage"
    assert documents["OPTIONS"]["bucket_name"] == "ikm-documents"
    assert documents["OPTIONS"]["endpoint_url"] == "http://minio.internal:9000"
    assert documents["OPTIONS"]["querystring_expire"] == 60


def test_unreachable_database_gives_one_line_naming_database_url() -> None:
    result = manage("migrate", "--noinput", DATABASE_URL=UNREACHABLE_DATABASE_URL)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert "Database unreachable" in lines[0]
    assert "DATABASE_URL" in lines[0]


def test_preflight_names_database_url_when_the_database_is_unreachable() -> None:
    result = manage("preflight", DATABASE_URL=UNREACHABLE_DATABASE_URL)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert "Database unreachable" in lines[0]
    assert "DATABASE_URL" in lines[0]


def test_preflight_names_redis_url_when_redis_is_unreachable(tmp_path: Path) -> None:
    result = manage(
        "preflight",
        DATABASE_URL=f"sqlite:///{tmp_path / 'preflight.sqlite3'}",
        REDIS_URL=UNREACHABLE_REDIS_URL,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert "Redis unreachable" in lines[0]
    assert "REDIS_URL" in lines[0]


def test_preflight_reports_database_ok_and_eager_broker_without_redis(tmp_path: Path) -> None:
    result = manage("preflight", DATABASE_URL=f"sqlite:///{tmp_path / 'preflight.sqlite3'}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database: ok, broker: eager"


def test_a_sqlite_older_than_3_35_stops_start_up_with_one_line() -> None:
    # The refund store needs UPDATE ... FROM ... RETURNING; an older SQLite is refused up front.
    code = (
        "import runpy, sqlite3, sys; "
        "sqlite3.sqlite_version_info = (3, 34, 1); sqlite3.sqlite_version = '3.34.1'; "
        "sys.argv = ['manage.py', 'check']; runpy.run_path('manage.py', run_name='__main__')"
    )
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2, result.stdout + result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert "SQLite 3.34.1 is too old" in lines[0]
    assert "DATABASE_URL" in lines[0]
