"""Rate-limit keys that never hold a client's address in clear.

The address is reduced to an HMAC under a key that changes every day and lives only in this
process's configuration; the limiter store (memory or Redis) sees the digest, and entries expire
with their window.
"""
import hashlib
import hmac
from datetime import UTC, datetime

from flask import current_app, request


def anonymous_client_key() -> str:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    secret = hashlib.sha256(
        b"avertizor-ratelimit|" + current_app.config["SECRET_KEY"].encode() + day.encode()
    ).digest()
    # Read only to throttle; the address itself is neither logged nor stored.
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(secret, address, hashlib.sha256).hexdigest()[:32]
