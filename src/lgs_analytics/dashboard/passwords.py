"""The dashboard password policy: at least 12 characters, and hard to guess by zxcvbn's estimate.

zxcvbn (Dropbox's password-strength estimator, the Python port) knows common passwords and words, their
l33t spellings and capitalisations, repeats, sequences, keyboard walks and dates, and estimates how
many guesses a password takes; only its top score (4: "very unguessable", about 10^10 guesses or more)
passes. A word list and hand-written patterns missed `P@ssw0rd2024!`, `adminadmin123` and
`zxcvbnmasdfg`. Pure Python (no Panel): ``lgs dashboard`` checks the password before importing the server.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_PASSWORD_CHARACTERS = 12
MIN_SCORE = 4  # zxcvbn's scale is 0 to 4
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(16))'"
# Words anyone would try on this site first: zxcvbn counts them as guessed.
SITE_WORDS = ("lgs", "london", "gift", "shop", "londongiftshop", "giftshop", "dashboard", "analytics",
              "marketing", "retail")


def weakness(password: str) -> str | None:
    """Why ``password`` is unfit as the dashboard password, or None when it passes the policy."""
    if len(password) < MIN_PASSWORD_CHARACTERS:
        return f"shorter than {MIN_PASSWORD_CHARACTERS} characters"
    verdict = zxcvbn(password, user_inputs=list(SITE_WORDS))
    if verdict["score"] >= MIN_SCORE:
        return None
    warning = verdict["feedback"]["warning"].rstrip(".")
    return f"easy to guess{': ' + warning[0].lower() + warning[1:] if warning else ''}"


def refusal(password: str, variable: str) -> str | None:
    """The one-line refusal of an unfit password (never repeating it), or None."""
    why = weakness(password)
    if why is None:
        return None
    return (f"{variable} is too weak ({why}): use at least {MIN_PASSWORD_CHARACTERS} characters that are "
            f"hard to guess, e.g. generate one with `{GENERATE}`")
