"""Where documents, site-visit photos and exports live: Django's STORAGES["documents"].

By default a folder on the server (PRIVATE_MEDIA_ROOT) outside every served folder; with the
DOCUMENTS_S3_* settings a private bucket of an S3-compatible store (django-storages), so that
several web and worker processes share the same files and keep none on their own disk. Either
way nothing is publicly readable: files are reached only through the permission-checked views,
which stream them or (S3 with DOCUMENTS_S3_REDIRECT) redirect to a short-lived signed URL.

Code never asks a storage for a `.path()`: a bucket has none. It opens, saves, deletes and
sizes files through the storage only.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.http import content_disposition_header

DOCUMENTS = "documents"


class PrivateFileStorage(FileSystemStorage):
    """The local folder: PRIVATE_MEDIA_ROOT, read at each use so tests may move it; no URL."""

    @property
    def base_location(self) -> str:
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Private documents have no URL: use the permission-checked download.")


class DocumentsStorage(LazyObject):
    """storages["documents"], looked up at first use and again after its settings change.

    The FileFields hold this object (through get_documents_storage), so a test or a process
    that changes STORAGES or PRIVATE_MEDIA_ROOT is followed without re-importing the models.
    """

    def _setup(self) -> None:
        self._wrapped = storages[DOCUMENTS]


documents_storage = DocumentsStorage()


def get_documents_storage() -> DocumentsStorage:
    """A callable, so migrations record a reference rather than this machine's store."""
    return documents_storage


@receiver(setting_changed)
def _documents_storage_follows_settings(*, setting: str, **kwargs: object) -> None:
    if setting in {"STORAGES", "PRIVATE_MEDIA_ROOT"}:
        storages._storages.pop(DOCUMENTS, None)
        documents_storage._wrapped = empty


def is_s3(store: object = documents_storage) -> bool:
    """Whether files live in a bucket (which can hand out signed URLs)."""
    return hasattr(store, "bucket_name")


def random_name(folder: str, stem: str, suffix: str) -> str:
    """`folder/stem-<random>suffix`: readable, unguessable, never the uploader's own name."""
    return f"{folder}/{stem}-{uuid.uuid4().hex[:16]}{suffix}"


def signed_url(stored: object, *, filename: str, content_type: str) -> str:
    """A URL of the bucket, valid DOCUMENTS_S3_URL_SECONDS, at which the store answers the
    stored file as an attachment named `filename` of `content_type` (the caller has checked
    the reader's right)."""
    return stored.storage.url(
        stored.name,
        parameters={
            "ResponseContentDisposition": content_disposition_header(True, filename),
            "ResponseContentType": content_type,
        },
        expire=settings.DOCUMENTS_S3_URL_SECONDS,
    )


def check_storage() -> str:
    """'ok', or why the documents' store cannot be used (for /healthz and start-up)."""
    if is_s3():
        return _check_bucket()
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    try:
        root.mkdir(parents=True, exist_ok=True)  # as the first upload would
    except OSError as exc:
        return f"The documents folder {root} cannot be made ({exc}). Check PRIVATE_MEDIA_ROOT."
    if not os.access(root, os.W_OK | os.X_OK):
        return f"The documents folder {root} is not writable. Check PRIVATE_MEDIA_ROOT."
    return "ok"


def _check_bucket() -> str:
    from subsidy.storage_s3 import check_bucket

    return check_bucket(documents_storage)
