"""Argon2id for secrets people type (receipts, passwords).

One Argon2id run per login; HKDF splits its output into two independent values: one that may be
stored (a verifier or a lookup id) and one that never is (the key-encryption key).
The parameters are stored beside each derived value as text, e.g. ``argon2id$m=65536,t=2,p=1``.
"""
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

# OWASP's floor for Argon2id; `flask check` warns below it.
MINIMUM_MEMORY_KIB = 19456


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int
    iterations: int
    lanes: int = 1

    def encode(self) -> str:
        return f"argon2id$m={self.memory_kib},t={self.iterations},p={self.lanes}"

    @classmethod
    def decode(cls, text: str) -> "KdfParams":
        name, _, values = text.partition("$")
        if name != "argon2id":
            raise ValueError(f"unknown KDF {name!r}")
        fields = dict(item.split("=") for item in values.split(","))
        return cls(int(fields["m"]), int(fields["t"]), int(fields["p"]))

    @classmethod
    def from_config(cls, config) -> "KdfParams":
        return cls(config["KDF_MEMORY_KIB"], config["KDF_ITERATIONS"], config["KDF_LANES"])


@dataclass(frozen=True)
class DerivedSecret:
    public_part: bytes  # verifier or lookup id: safe to store
    key: bytes  # key-encryption key: never stored


def derive(secret: str, salt: bytes, params: KdfParams, purpose: str) -> DerivedSecret:
    master = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(secret.encode())

    def expand(label: str) -> bytes:
        info = f"avertizor-{purpose}-{label}-v1".encode()
        return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(master)

    return DerivedSecret(public_part=expand("id"), key=expand("key"))
