"""The dashboard password policy (pure): long, not common, not one character or a typed run."""

from __future__ import annotations

import secrets

import pytest

from lgs_analytics.dashboard import passwords, serve
from lgs_analytics.dashboard.common_passwords import COMMON_PASSWORDS


@pytest.mark.parametrize(("password", "why"), [
    ("12345678", "shorter than 12 characters"),  # the adversarial probe's password
    ("Tr0ub4dor&3", "shorter than 12 characters"),
    ("aaaaaaaaaaaaaaaa", "one character repeated"),
    ("############", "one character repeated"),
    ("abcabcabcabc", "a short pattern repeated"),
    ("121212121212", "a short pattern repeated"),
    ("password1234", "a common password"),
    ("Password1234!", "a common password"),
    ("2024iloveyou!!", "a common password"),
    ("passwordpassword", "a common password"),
    ("1qaz2wsx1qaz2wsx", "a common password"),
    ("123456789012", "a simple sequence"),
    ("abcdefghijklmnop", "a simple sequence"),
    ("ZYXWVUTSRQPONM", "a simple sequence"),
    ("acegikmoqsuw", "a simple sequence"),
    ("qwertyuiopasdf", "a simple sequence"),
    ("1qaz2wsx3edc4rfv", "a simple sequence"),
    ("1q2w3e4r5t6y7u", "a simple sequence"),
    ("0987654321098", "a simple sequence"),
])
def test_weak_passwords_are_refused_and_say_why(password, why):
    assert passwords.weakness(password) == why
    with pytest.raises(ValueError) as refused:
        serve.check_access("0.0.0.0", password)
    message = str(refused.value)
    assert "\n" not in message and password not in message
    assert why in message and "secrets.token_urlsafe(16)" in message and "at least 12 characters" in message


@pytest.mark.parametrize("password", ["marketing-test-password", "correct horse battery staple",
                                      "Lgs-dash-2024-blue-kettle", "a-long-secret-Tq4"])
def test_long_unpatterned_passwords_pass(password):
    assert passwords.weakness(password) is None
    serve.check_access("0.0.0.0", password)


def test_generated_passwords_always_pass():
    for _ in range(2000):
        assert passwords.weakness(secrets.token_urlsafe(16)) is None


def test_the_bundled_list_is_the_top_thousand_lowercased():
    assert len(COMMON_PASSWORDS) == 999  # SecLists' top 1,000; Password and PASSWORD fold into password
    assert {"123456", "password", "qwerty", "iloveyou", "trustno1", "freepass"} <= COMMON_PASSWORDS
    assert all(word == word.lower() and word.strip() == word for word in COMMON_PASSWORDS)
