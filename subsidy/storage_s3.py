"""The documents' bucket (django-storages' S3 backend), imported only when one is configured.

Private by construction: every object is written with the "private" canned ACL, reads need a
signed URL that expires after DOCUMENTS_S3_URL_SECONDS, names are never overwritten, and the
client gives up quickly on a store that does not answer instead of holding a web worker.
"""

import functools

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from storages.backends.s3 import S3Storage

# Seconds: long enough for a busy store, short enough that a dead one fails a request soon.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 30


class PrivateS3Storage(S3Storage):
    def get_default_settings(self) -> dict:
        return {
            **super().get_default_settings(),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60,
            "custom_domain": None,
            "file_overwrite": False,
            "signature_version": "s3v4",
            # Anything larger than an upload kept in memory spills to a temporary file.
            "max_memory_size": settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
        }

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.client_config = Config(
            # Path-style (endpoint/bucket/key) is what MinIO and other self-hosted stores
            # answer; AWS itself is reached under the bucket's own host name.
            s3={"addressing_style": "path" if self.endpoint_url else "virtual"},
            signature_version=self.signature_version,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": 3, "mode": "standard"},
        )


@functools.lru_cache(maxsize=4)
def _probe_client(
    endpoint_url: str | None, region: str | None, key: str | None, secret: str | None
) -> object:
    """A client of its own for /healthz: one attempt, one-second timeouts (made once)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(
            s3={"addressing_style": "path" if endpoint_url else "virtual"},
            signature_version="s3v4",
            connect_timeout=1,
            read_timeout=1,
            retries={"total_max_attempts": 1},
        ),
    )


def check_bucket(storage: PrivateS3Storage) -> str:
    """'ok' or why the bucket cannot be used: one HEAD of the bucket, no retry."""
    client = _probe_client(
        storage.endpoint_url, storage.region_name, storage.access_key, storage.secret_key
    )
    try:
        client.head_bucket(Bucket=storage.bucket_name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        return f"The bucket {storage.bucket_name} answered {code}. Check DOCUMENTS_S3_*."
    except BotoCoreError as exc:
        return f"The documents store does not answer ({exc}). Check DOCUMENTS_S3_ENDPOINT_URL."
    return "ok"
