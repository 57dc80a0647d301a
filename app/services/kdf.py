"""The Argon2id parameters of this deployment (config KDF_MEMORY_KIB, KDF_ITERATIONS,
KDF_LANES), for every password and receipt a key is derived from. Tests set cheap ones."""
from flask import current_app

from ..crypto.kdf import KdfParams


def kdf_params() -> KdfParams:
    return KdfParams.from_config(current_app.config)
