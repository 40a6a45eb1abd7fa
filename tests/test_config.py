"""Settings read from the environment: a DATABASE_URL with .env.example's placeholder password is refused."""

from __future__ import annotations

import pytest

from lgs_analytics import cli, config


@pytest.mark.parametrize("url", [
    "postgresql://lgs:change-me-postgres-password@127.0.0.1:5432/lgs",  # .env.example's, as compose builds it
    "host=db user=lgs password='Change-Me-too' dbname=lgs",
])
def test_the_placeholder_password_is_refused_in_one_line(url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr("lgs_analytics.config.load_env_file", lambda: None)  # not the checkout's .env
    assert cli.main(["db", "url"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "password is still the placeholder from .env.example" in err
    assert "change-me" not in err.lower()  # the message never repeats a password, not even this one


def test_a_password_of_ones_own_is_accepted(monkeypatch):
    url = "postgresql://lgs:Qx7-not-a-placeholder@127.0.0.1:5432/lgs"
    monkeypatch.setenv("DATABASE_URL", url)
    assert config.database_url_from_env() == url
