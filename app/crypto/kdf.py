"""Argon2id for secrets people type (receipts, passwords).

One Argon2id run per login; HKDF splits its output into two independent values: one that may be
stored (a verifier or a lookup id) and one that never is (the key-encryption key).
The parameters are stored beside each derived value as text, e.g. ``argon2id$m=65536,t=2,p=1``.

Argon2id itself runs in libsodium (PyNaCl), measured the fastest of the well-kept
implementations on our servers (bench/kdf.py: about 0.55 × the time of OpenSSL's through
`cryptography` at the same parameters) and byte-identical to it (tests/test_kdf_implementations.py).
libsodium knows only one lane and 16-byte salts; anything else (p > 1) goes to `cryptography`.
Both release the GIL while they work, so a thread waiting for a derivation blocks no other.

In a server process the derivations may run on a small pool of their own (`use_pool`, set up
from config KDF_THREADS): at most that many at once, at a lower CPU priority (KDF_NICE), so
that pages served by the other threads are never queued behind the deliberate cost, and the
cores are not oversubscribed by more 256 MiB derivations than there are cores to run them.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from nacl import pwhash

# OWASP's floor for Argon2id; `flask check` warns below it.
MINIMUM_MEMORY_KIB = 19456
LENGTH = 32


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


def _libsodium_can(salt: bytes, params: KdfParams) -> bool:
    return (params.lanes == 1 and len(salt) == pwhash.argon2id.SALTBYTES
            and params.iterations >= pwhash.argon2id.OPSLIMIT_MIN
            and params.memory_kib * 1024 >= pwhash.argon2id.MEMLIMIT_MIN)


def argon2id_libsodium(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    # libsodium: one lane always, opslimit = passes, memlimit in bytes.
    return pwhash.argon2id.kdf(LENGTH, secret, salt, opslimit=params.iterations,
                               memlimit=params.memory_kib * 1024)


def argon2id_openssl(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    return Argon2id(salt=salt, length=LENGTH, iterations=params.iterations, lanes=params.lanes,
                    memory_cost=params.memory_kib).derive(secret)


def _compute(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    if _libsodium_can(salt, params):
        return argon2id_libsodium(secret, salt, params)
    return argon2id_openssl(secret, salt, params)


class _Pool:
    """The process's derivation threads, made on first use after gunicorn forks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.threads = 0  # 0: derive in the calling thread
        self.nice = 0
        self.executor: ThreadPoolExecutor | None = None
        self.pid = 0

    def configure(self, threads: int, nice: int) -> None:
        with self.lock:
            self.threads, self.nice = max(0, threads), max(0, nice)
            self._shut()

    def _shut(self) -> None:
        if self.executor is not None and self.pid == os.getpid():
            self.executor.shutdown(wait=False)
        self.executor = None

    def _lower_priority(self) -> None:
        # Linux gives each thread its own nice value: only these threads yield to pages.
        if self.nice and hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except OSError:
                pass

    def get(self) -> ThreadPoolExecutor | None:
        if not self.threads:
            return None
        with self.lock:
            if self.executor is None or self.pid != os.getpid():  # none yet, or forked
                self.executor = ThreadPoolExecutor(
                    self.threads, thread_name_prefix="avertizor-kdf",
                    initializer=self._lower_priority)
                self.pid = os.getpid()
            return self.executor


_pool = _Pool()


def use_pool(threads: int, nice: int = 0) -> None:
    """Run derivations on `threads` threads of their own (0: in the caller's thread)."""
    _pool.configure(threads, nice)


def argon2id(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    """Raw Argon2id (version 1.3), 32 bytes: the same bytes whichever library computes them."""
    executor = _pool.get()
    if executor is None or threading.current_thread().name.startswith("avertizor-kdf"):
        return _compute(secret, salt, params)
    return executor.submit(_compute, secret, salt, params).result()


def derive(secret: str, salt: bytes, params: KdfParams, purpose: str) -> DerivedSecret:
    master = argon2id(secret.encode(), salt, params)

    def expand(label: str) -> bytes:
        info = f"avertizor-{purpose}-{label}-v1".encode()
        return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(master)

    return DerivedSecret(public_part=expand("id"), key=expand("key"))
