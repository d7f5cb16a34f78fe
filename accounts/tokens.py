"""The shape of an API token: a random secret shown once, kept only as its SHA-256."""

import hashlib
import secrets

# "ikm_" + 8 characters that the owner sees in the list + the rest of the secret.
PREFIX_LENGTH = 12


def new_token_secret() -> str:
    """256 random bits, URL-safe, with a recognisable start (secret scanners can find it)."""
    return f"ikm_{secrets.token_urlsafe(32)}"


def token_hash(secret: str) -> str:
    # A plain SHA-256 suffices: the secret is 256 random bits, not a password to guess.
    return hashlib.sha256(secret.encode()).hexdigest()


def token_prefix(secret: str) -> str:
    return secret[:PREFIX_LENGTH]
