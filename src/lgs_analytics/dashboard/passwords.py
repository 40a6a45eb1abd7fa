"""The dashboard password policy: long, not a common password, not a pattern a person types.

Pure Python (no Panel): ``lgs dashboard`` checks the password before importing the server.
"""

from __future__ import annotations

from lgs_analytics.dashboard.common_passwords import COMMON_PASSWORDS

MIN_PASSWORD_CHARACTERS = 12
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(16))'"
SHORT_UNIT = 4  # "abcabcabcabc", "1212121212121": a short unit repeated is a pattern, not a secret
# Runs a person types: the alphabet and digits (wrapping), keyboard rows, columns and zig-zags.
WALKS = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "1234567890qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop[]asdfghjkl;'zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "qazwsxedcrfvtgbyhnujmikolp",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
)
_PATTERNS = tuple(run * 3 for walk in WALKS for run in (walk, walk[::-1]))


def _unit(text: str) -> str:
    """The shortest piece that ``text`` repeats ("abcabcabc" -> "abc"; itself if none)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _core(text: str) -> str:
    """The letters between any leading and trailing digits and symbols ("!!summer2024" -> "summer")."""
    start, end = 0, len(text)
    while start < end and not text[start].isalpha():
        start += 1
    while end > start and not text[end - 1].isalpha():
        end -= 1
    return text[start:end]


def is_sequence(text: str) -> bool:
    """A run with one constant step ("acegikmo", "97531") or a walk along the alphabet or keyboard."""
    if len(text) < 3:
        return False
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return len(steps) == 1 or any(text in pattern for pattern in _PATTERNS)


def weakness(password: str) -> str | None:
    """Why ``password`` is unfit as the dashboard password, or None when it passes the policy."""
    if len(password) < MIN_PASSWORD_CHARACTERS:
        return f"shorter than {MIN_PASSWORD_CHARACTERS} characters"
    text = password.lower()
    unit = _unit(text)
    if len(unit) == 1:
        return "one character repeated"
    if unit != text and len(unit) <= SHORT_UNIT:
        return "a short pattern repeated"
    if {text, unit, _core(text), _core(unit)} & COMMON_PASSWORDS:
        return "a common password"
    if is_sequence(text) or is_sequence(unit):
        return "a simple sequence"
    return None


def refusal(password: str, variable: str) -> str | None:
    """The one-line refusal of an unfit password (never repeating it), or None."""
    why = weakness(password)
    if why is None:
        return None
    return (f"{variable} is too weak ({why}): use at least {MIN_PASSWORD_CHARACTERS} characters that are "
            f"not a common password or pattern, e.g. generate one with `{GENERATE}`")
