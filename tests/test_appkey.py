"""app_key(): one function for every key taken from SECRET_KEY, each byte-identical to the key
the code derived before it existed (known answers computed with that code), so pending mail,
TOTP secrets, enrolment fields, audit MACs, device cookies and rate counters made before still
open, verify and count."""
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadData, URLSafeTimedSerializer

from app import ratelimit
from app.crypto.appkey import Purpose, app_key
from app.services.staff import sign_in

SECRET = "known-answer-secret-key-0123456789abcdef"

# Computed from the derivations as they stood in totp.py, invitations.py, notify.py,
# audit/chain.py, ratelimit.py and sign_in.py before app_key took them over.
KNOWN_ANSWERS = {
    (Purpose.OUTBOX, ""): "fd5a7cb9e53300b72baf35774ed57680c5d710c5246b81bd445037780ce19338",
    (Purpose.AUDIT, ""): "172229fddcae734620ddb9ad38a07a803c6b2b5996f7e407ce2adf7dfd2d2d0c",
    (Purpose.TOTP_STORAGE, ""):
        "5b59a639859a6afceac213a18f9ff9f35c05502b28095b4296b088cbc6e7898c",
    (Purpose.ACTIVATION_TOTP, ""):
        "c0b3be247ba39787c41837e857339b7a80fea2bee7137328d4a27b6aab9b2209",
    (Purpose.RATE_LIMIT_DAY, "2026-12-01"):
        "93a09d3ed89c4e1f379c885e6017d241bdb1f8a3d0e9b4f872f0eaeb70f61e96",
    (Purpose.RATE_LIMIT_COUNTER, "sign-in"):
        "87c0e4e15f306a2e99c070ecbaa227c1cd5bfcecc5d0272ae7b93f7e47b2d700",
    (Purpose.KNOWN_DEVICE, ""): "cb61cc89bbf3ccfe4a48e8e08c439fc7bc717a12",
    # Introduced with app_key: HKDF-SHA256, salt "avertizor", info "avertizor-plan-evidence-v1".
    (Purpose.PLAN_EVIDENCE, ""):
        "4a73f925b3cbd39d02c1504bf8f55e061002b3506a95156e36c73ca0cbe2b275",
}


@pytest.mark.parametrize(("purpose", "context"), list(KNOWN_ANSWERS))
def test_every_purpose_derives_its_known_answer(purpose, context):
    assert app_key(purpose, context, secret=SECRET).hex() == KNOWN_ANSWERS[purpose, context]


def test_known_answers_cover_every_purpose():
    assert {purpose for purpose, _ in KNOWN_ANSWERS} == set(Purpose)


@pytest.mark.parametrize("purpose", ["outbox", "audit", "totp-storage", "activation-totp"])
def test_hkdf_purposes_match_the_former_derivation(purpose):
    former = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"avertizor",
                  info=f"avertizor-{purpose}-v1".encode()).derive(SECRET.encode())
    assert app_key(Purpose(purpose), secret=SECRET) == former


def test_the_running_applications_secret_is_used(app):
    secret = app.config["SECRET_KEY"]
    assert app_key(Purpose.OUTBOX) == app_key(Purpose.OUTBOX, secret=secret)
    assert app_key(Purpose.OUTBOX) != app_key(Purpose.OUTBOX, secret=SECRET)


def test_purposes_are_a_closed_set_and_never_share_a_key():
    with pytest.raises(TypeError):
        app_key("outbox", secret=SECRET)
    with pytest.raises(ValueError):
        app_key(Purpose.RATE_LIMIT_DAY, secret=SECRET)  # needs the day
    with pytest.raises(ValueError):
        app_key(Purpose.AUDIT, "extra", secret=SECRET)
    with pytest.raises(ValueError):
        app_key(Purpose.AUDIT, secret="")
    assert len(set(KNOWN_ANSWERS.values())) == len(KNOWN_ANSWERS)


def test_rate_limit_digests_are_the_former_ones(app):
    secret = app.config["SECRET_KEY"]
    former = hashlib.sha256(b"avertizor-counter|sign-in-all|" + secret.encode()).digest()
    expected = hmac.new(former, b"1\x1fa@b.example", hashlib.sha256).hexdigest()[:32]
    assert ratelimit.keyed_digest("sign-in-all", "1", "a@b.example") == expected


def test_device_cookies_of_the_former_signer_still_verify_and_the_reverse(app):
    former = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="avertizor-device")
    current = sign_in._devices()
    value = {"staff": 7, "device": "abc"}
    assert current.loads(former.dumps(value)) == value
    assert former.loads(current.dumps(value)) == value
    with pytest.raises(BadData):
        URLSafeTimedSerializer("another secret", salt="avertizor-device").loads(
            current.dumps(value))
