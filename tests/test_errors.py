"""One-line error messages."""

from __future__ import annotations

import pytest

from lgs_analytics.errors import first_line


def test_first_line_of_the_message_or_the_class_name():
    assert first_line(ValueError("  bad value\n  Traceback detail  ")) == "bad value"
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("   \n  ")) == "RuntimeError"


def test_first_line_is_cut_to_the_limit_when_asked():
    error = ValueError("x" * 300)
    assert first_line(error, 200) == "x" * 200
    assert first_line(error) == "x" * 300


def test_passwords_in_connection_strings_are_hidden():
    from lgs_analytics.errors import redact

    assert redact('missing "=" after "admin:s3cret@db.lan:5432/lgs"') == \
        'missing "=" after "admin:***@db.lan:5432/lgs"'
    assert redact("postgresql://lgs:p%40ss:w0rd@10.0.0.5:5432/lgs?sslmode=require") == \
        "postgresql://lgs:***@10.0.0.5:5432/lgs?sslmode=require"
    assert redact("host=db password='two words' user=lgs") == "host=db password=*** user=lgs"
    assert redact("PASSWORD=s3cret") == "PASSWORD=***"
    assert redact("set it as postgresql://user:password@host:5432/db") == \
        "set it as postgresql://user:password@host:5432/db"  # an example's placeholder stays readable
    assert first_line(ValueError("could not connect to postgresql://a:b@h/d\nmore")) == \
        "could not connect to postgresql://a:***@h/d"


def test_a_database_url_that_is_not_a_url_is_refused_without_echoing_it(tmp_path, monkeypatch, capsys):
    import json

    from lgs_analytics import cli

    monkeypatch.setenv("DATABASE_URL", "admin:s3cret-pw@localhost:1/lgs")  # no postgresql://
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for argv in (["db", "start"], ["build", "--quiet"],
                 ["refresh", "--inbox", str(inbox), "--out", str(tmp_path / "r.html"), "--quiet"]):
        assert cli.main(argv) != 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "s3cret" not in err, err
        assert "DATABASE_URL is not a postgresql:// URL" in err
    log = tmp_path / "logs" / "refresh.jsonl"
    assert not log.exists() or all("s3cret" not in json.dumps(json.loads(line))
                                   for line in log.read_text().splitlines())


@pytest.mark.parametrize("url, message", [
    # libpq cuts a password holding '@' and ':' at the first '@', and names the rest as the port
    ("postgresql://u:Pw@ss:Sekret1@127.0.0.1:1/db",
     'invalid integer value "Sekret1@127.0.0.1:1" for connection option "port"'),
    ("postgresql://u:Sek%ZZret10@127.0.0.1:1/db",
     'invalid dsn: invalid percent-encoded token: "Sek%ZZret10"'),
    ("postgresql://u:p%40ssw0rd@db/x", "password authentication failed: p@ssw0rd"),
    ("host=db password=s3cret-pw user=u", 'could not translate host name "s3cret-pw"'),
])
def test_a_secret_from_the_environment_is_hidden_wherever_a_message_echoes_it(monkeypatch, url, message):
    from lgs_analytics.errors import redact

    monkeypatch.setenv("DATABASE_URL", url)
    shown = redact(message)
    assert "***" in shown
    for piece in ("Sekret1", "Sek%ZZret10", "p@ssw0rd", "s3cret-pw"):
        assert piece not in shown, shown


def test_the_dashboard_password_and_the_pseudonym_key_are_hidden_too(monkeypatch):
    from lgs_analytics.errors import redact

    monkeypatch.setenv("LGS_DASHBOARD_PASSWORD", "a-long-dashboard-secret")
    monkeypatch.setenv("LGS_PSEUDONYM_KEY", "k3y-that-is-long-enough-to-use")
    assert redact("got a-long-dashboard-secret and k3y-that-is-long-enough-to-use") == "got *** and ***"


def test_a_one_letter_password_does_not_blank_every_letter_of_a_message(monkeypatch):
    from lgs_analytics.errors import redact

    monkeypatch.setenv("DATABASE_URL", "postgresql://x:y@127.0.0.1:1/none")
    assert redact("the file is a symbolic link; try another") == "the file is a symbolic link; try another"
    assert redact("postgresql://x:y@127.0.0.1:1/none down") == "postgresql://x:***@127.0.0.1:1/none down"
