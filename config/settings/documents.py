"""The STORAGES["documents"] entry, from the DOCUMENTS_S3_* settings (also used by the tests
that point it at a local S3 server)."""


def documents_storage(
    *,
    bucket: str = "",
    endpoint_url: str = "",
    access_key: str = "",
    secret_key: str = "",
    region: str = "",
    url_seconds: int = 60,
) -> dict:
    """The private folder (PRIVATE_MEDIA_ROOT) without a bucket; the bucket with one."""
    if not bucket:
        return {"BACKEND": "subsidy.storage.PrivateFileStorage"}
    return {
        "BACKEND": "subsidy.storage_s3.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "region_name": region or None,
            "querystring_expire": url_seconds,
        },
    }
