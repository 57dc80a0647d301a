#!/usr/bin/env python3
"""Argon2id implementations side by side: one derivation (p=1, a 16-byte salt, 32 bytes out)
with `cryptography` (OpenSSL), argon2-cffi's low-level `hash_secret_raw` (the reference C code)
and PyNaCl (libsodium), for several parameter sets.

Prints per implementation and parameters: median and p95 wall time, median CPU time of the
thread, and "others", the CPU that other processes used meanwhile (in cores; a noisy machine
shows there). Checks first that the three give the same bytes. The runs are interleaved (one of
each implementation in turn) so that a burst of load elsewhere hurts all of them alike.
A benchmark: it prints and asserts nothing; see bench/README.md.

    .venv/bin/python bench/kdf.py
    .venv/bin/python bench/kdf.py --sets 65536:2,262144:1 --runs 21
"""
import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cryptography  # noqa: E402
import nacl  # noqa: E402
from argon2.low_level import Type, hash_secret_raw  # noqa: E402
from cryptography.hazmat.backends.openssl.backend import backend  # noqa: E402

from app.crypto import kdf  # noqa: E402
from bench.submit import machine_busy_seconds, machine_description, percentile  # noqa: E402
from config import Config  # noqa: E402

DEFAULT_SETS = "19456:2,65536:1,65536:2,131072:2,196608:2,262144:1,262144:2,393216:1"
Implementation = Callable[[bytes, bytes, kdf.KdfParams], bytes]


def argon2_cffi(secret: bytes, salt: bytes, params: kdf.KdfParams) -> bytes:
    return hash_secret_raw(secret, salt, time_cost=params.iterations,
                           memory_cost=params.memory_kib, parallelism=params.lanes,
                           hash_len=kdf.LENGTH, type=Type.ID)


IMPLEMENTATIONS: dict[str, Implementation] = {
    "cryptography": kdf.argon2id_openssl,
    "argon2-cffi": argon2_cffi,
    "pynacl": kdf.argon2id_libsodium,
}


def versions() -> str:
    return (f"cryptography {cryptography.__version__} ({backend.openssl_version_text()}), "
            f"argon2-cffi {_dist_version('argon2-cffi')} "
            f"(argon2-cffi-bindings {_dist_version('argon2-cffi-bindings')}), "
            f"PyNaCl {nacl.__version__} (libsodium bundled)")


def _dist_version(name: str) -> str:
    from importlib.metadata import version
    return version(name)


def parse_sets(text: str) -> list[kdf.KdfParams]:
    sets = []
    for item in text.split(","):
        memory, _, iterations = item.partition(":")
        sets.append(kdf.KdfParams(int(memory), int(iterations or 1), 1))
    return sets


def measure(params: kdf.KdfParams, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    salt, secret = os.urandom(16), b"1234567890123456"
    outputs = {name: impl(secret, salt, params) for name, impl in IMPLEMENTATIONS.items()}
    if len(set(outputs.values())) != 1:
        print(f"  !! {params.encode()}: the implementations disagree: "
              + ", ".join(f"{n}={o.hex()[:16]}" for n, o in outputs.items()))
    timings: dict[str, tuple[list[float], list[float]]] = {
        name: ([], []) for name in IMPLEMENTATIONS}
    for _ in range(runs):
        for name, impl in IMPLEMENTATIONS.items():
            started, started_cpu = time.perf_counter(), time.thread_time()
            impl(secret, salt, params)
            timings[name][0].append(time.perf_counter() - started)
            timings[name][1].append(time.thread_time() - started_cpu)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=DEFAULT_SETS, help="MEMORY_KIB:ITERATIONS,... (p=1)")
    parser.add_argument("--runs", type=int, default=11, help="runs per implementation and set")
    args = parser.parse_args()
    default = kdf.KdfParams(Config.KDF_MEMORY_KIB, Config.KDF_ITERATIONS, Config.KDF_LANES)

    print(f"Machine: {machine_description()}")
    print(f"Libraries: {versions()}")
    print(f"Load average before the run: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"One derivation, p=1, 16-byte salt, 32 bytes; {args.runs} runs each, interleaved. "
          f"CPU s: the thread's CPU time (median); others: CPU of other processes meanwhile.")
    print(f"{'parameters':<26} {'implementation':<14} {'median s':>9} {'p95 s':>7} "
          f"{'CPU s':>7} {'vs OpenSSL':>10} {'others':>7}")
    for params in parse_sets(args.sets):
        busy, started = machine_busy_seconds(), time.monotonic()
        timings = measure(params, args.runs)
        elapsed = time.monotonic() - started
        others = max(0.0, machine_busy_seconds() - busy - elapsed) / elapsed
        reference = statistics.median(timings["cryptography"][0])
        mark = "  <- config.py default" if params == default else ""
        for name, (walls, cpus) in timings.items():
            median = statistics.median(walls)
            print(f"{params.encode():<26} {name:<14} {median:>9.3f} "
                  f"{percentile(walls, 95):>7.3f} {statistics.median(cpus):>7.3f} "
                  f"{median / reference:>9.2f}× {others:>6.0%}{mark}", flush=True)


if __name__ == "__main__":
    main()
