"""The dashboard password policy (pure): long, not common, not one character or a typed run."""

from __future__ import annotations

import secrets

import pytest

from lgs_analytics.dashboard import passwords, serve


@pytest.mark.parametrize(("password", "why"), [
    ("12345678", "shorter than 12 characters"),  # the adversarial probe's password
    ("Tr0ub4dor&3", "shorter than 12 characters"),
    ("aaaaaaaaaaaaaaaa", "easy to guess: repeats"),
    ("############", "easy to guess: repeats"),
    ("abcabcabcabc", "easy to guess: repeats"),
    ("121212121212", "easy to guess: repeats"),
    ("password1234", "easy to guess: this is a very common password"),
    ("Password1234!", "easy to guess: this is similar to a commonly used password"),
    ("2024iloveyou!!", "easy to guess"),
    ("passwordpassword", "easy to guess: repeats"),
    ("1qaz2wsx1qaz2wsx", "easy to guess: repeats"),
    ("123456789012", "easy to guess: this is similar to a commonly used password"),
    ("ZYXWVUTSRQPONM", "easy to guess: sequences"),
    ("acegikmoqsuw", "easy to guess: sequences"),
    ("qwertyuiopasdf", "easy to guess: this is similar to a commonly used password"),
    ("1qaz2wsx3edc4rfv", "easy to guess: this is a very common password"),
    # the second probe's, accepted by the word list and patterns before zxcvbn
    ("P@ssw0rd2024!", "easy to guess: this is similar to a commonly used password"),
    ("Pa$$w0rd1234", "easy to guess"), ("P4ssw0rd!!!!", "easy to guess"), ("p@ssword12345", "easy to guess"),
    ("passwordpassword1", "easy to guess"), ("adminadmin123", "easy to guess"),
    ("administrator1", "easy to guess"), ("zxcvbnmasdfg", "easy to guess"), ("11111111111a", "easy to guess"),
    ("dragon2024dragon", "easy to guess"), ("londongiftshop", "easy to guess"),
    ("          ab", "easy to guess"),
])
def test_weak_passwords_are_refused_and_say_why(password, why):
    assert passwords.weakness(password).startswith(why)
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


