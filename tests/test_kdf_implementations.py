"""The three well-kept Argon2id implementations give the same bytes for the same parameters,
and app.crypto.kdf (libsodium, with OpenSSL for p > 1) still derives exactly what the code
derived when it used `cryptography` alone, so every stored receipt and password still opens.

Known answers were computed with `cryptography`'s Argon2id (OpenSSL), the implementation the
application used before it switched to libsodium."""
import pytest
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto import kdf
from app.crypto.kdf import KdfParams

SALT = bytes(range(16))
SALT_A5 = bytes.fromhex("a5" * 16)

# (secret, salt, memory KiB, iterations, lanes) -> raw Argon2id, 32 bytes
RAW_KNOWN_ANSWERS = [
    (b"1234567890123456", SALT, 1024, 1, 1,
     "3b195abcb0067446bb8803776ed2710d652e8345cadcf8b725ac02b090e896f5"),
    ("Parolă-lungă-ăîșț".encode(), SALT_A5, 19456, 2, 1,
     "7bb01f199ffc9b31d62022c9535a02c39b30e38404e20d654169bcfacff415e7"),
    (b"0000111122223333", SALT_A5, 65536, 2, 1,
     "de8b2e7902a41b1e0fea95744c704a20db9713eef2c05ceb4383b273b7a9824e"),
    (b"", SALT, 8, 1, 1,
     "31ed41e2d73f27fdfe4eb4bec651341e58ba43477051c6fe4adad735d82ee08a"),
    (b"x" * 200, SALT_A5, 4097, 4, 1,
     "1c68edcfb2dc08dd18d30f9b18ffd00dac770ce8ebaa1298dea0d48a6237fb2e"),
    (b"1234567890123456", SALT, 2048, 3, 2,
     "fd8012e0f795d41a905d3d5bcf28d74f04b654bef9eeb37d228dbb10fbfa30a8"),
]

# Stored parameter strings as they are found in the database -> (verifier/lookup id, key),
# computed with the code before the switch (Argon2id from `cryptography`, then HKDF).
DERIVE_KNOWN_ANSWERS = [
    ("1234567890123456", SALT, "argon2id$m=1024,t=1,p=1", "receipt",
     "71de4ed3b8f719bb02c0d1ec7adda66cc4c8956aa6ff2fbafcf88769e012eb58",
     "52af18aed4dfba065bd1879c78ae2a917d47230f07bfc03a7df90c0182b42cd9"),
    ("Parolă-lungă-ăîșț", SALT_A5, "argon2id$m=19456,t=2,p=1", "receipt",
     "732cff9922dbb5b722ba6dcd42ad1688e927be114d81a3e37c9d31e9b419278c",
     "f79e31c17174cb3e73b99bf3c3958005fe802be8dfe3cdc18929ae15f5313193"),
    ("0000111122223333", SALT_A5, "argon2id$m=65536,t=2,p=1", "receipt",
     "3fdd2bfa0bbaa0d5fc8cf0b035b9a5cba31e0692650d797ae63392b71179a0c9",
     "7362f5088f05014be790fbf5b21e98c95abaf0ed305f85013594fbcf67fa4e0b"),
    ("1234567890123456", SALT, "argon2id$m=2048,t=3,p=2", "receipt",
     "df65bbfc7f0e587a11d0111c89f18d1419367941e5dbc9c7d2ce2ad5b2847dd7",
     "012043044dcc2d9ae4a48b57affe0199f0e63910df25dc5a2c113eceeecd705e"),
]


def openssl(secret: bytes, salt: bytes, m: int, t: int, p: int) -> bytes:
    return Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(secret)


def argon2_cffi(secret: bytes, salt: bytes, m: int, t: int, p: int) -> bytes:
    return hash_secret_raw(secret, salt, time_cost=t, memory_cost=m, parallelism=p,
                           hash_len=32, type=Type.ID)


def libsodium(secret: bytes, salt: bytes, m: int, t: int, p: int) -> bytes:
    assert p == 1, "libsodium has one lane only"
    return kdf.argon2id_libsodium(secret, salt, KdfParams(m, t, p))


@pytest.mark.parametrize("secret,salt,m,t,p,expected", RAW_KNOWN_ANSWERS)
def test_every_implementation_gives_the_known_answer(secret, salt, m, t, p, expected):
    implementations = [openssl, argon2_cffi] + ([libsodium] if p == 1 else [])
    for implementation in implementations:
        assert implementation(secret, salt, m, t, p).hex() == expected, implementation.__name__
    assert kdf.argon2id(secret, salt, KdfParams(m, t, p)).hex() == expected


@settings(max_examples=30, deadline=None)
@given(secret=st.binary(max_size=80), salt=st.binary(min_size=16, max_size=16),
       m=st.integers(min_value=8, max_value=300), t=st.integers(min_value=1, max_value=3))
def test_the_implementations_agree_on_any_input(secret, salt, m, t):
    expected = openssl(secret, salt, m, t, 1)
    assert argon2_cffi(secret, salt, m, t, 1) == expected
    assert libsodium(secret, salt, m, t, 1) == expected


@pytest.mark.parametrize("secret,salt,encoded,purpose,public_part,key", DERIVE_KNOWN_ANSWERS)
def test_stored_parameters_still_derive_the_same_secret(secret, salt, encoded, purpose,
                                                        public_part, key):
    derived = kdf.derive(secret, salt, KdfParams.decode(encoded), purpose=purpose)
    assert derived.public_part.hex() == public_part
    assert derived.key.hex() == key


def test_one_lane_and_our_salt_go_to_libsodium_the_rest_to_openssl():
    assert kdf._libsodium_can(SALT, KdfParams(1024, 1, 1))
    assert not kdf._libsodium_can(SALT, KdfParams(1024, 1, 2))
    assert not kdf._libsodium_can(b"short salt", KdfParams(1024, 1, 1))
    # Both paths give the same bytes where both can run.
    assert kdf.argon2id(b"pw", SALT, KdfParams(64, 1, 1)) == openssl(b"pw", SALT, 64, 1, 1)
    assert kdf.argon2id(b"pw", b"eight by", KdfParams(64, 1, 1)) == openssl(
        b"pw", b"eight by", 64, 1, 1)
