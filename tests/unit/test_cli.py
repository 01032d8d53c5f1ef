"""The CLI's hand-off to mitmdump/mitmweb: arguments pass through untouched, in an order mitmproxy accepts."""

from __future__ import annotations

import pytest

from apigw_doctor import cli


@pytest.fixture
def execv(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: calls.append(list(argv)))
    return calls


def test_dump_passes_options_and_flags_through(execv):
    cli.main(["dump", "--set", "apigw_user_pools=us-east-1_AbCdEf123", "-r", "capture.har", "~marked"])
    argv = execv[0]
    assert argv[0].endswith("mitmdump")
    assert argv[1:3] == ["-s", str(cli.ADDON_SCRIPT)]
    assert f"confdir={cli.certs_dir()}" in argv
    assert argv[-5:] == ["--set", "apigw_user_pools=us-east-1_AbCdEf123", "-r", "capture.har", "~marked"]


def test_web_adds_the_verdict_column_before_a_positional_filter(execv):
    cli.main(["web", "~marker :no_entry:"])
    argv = execv[0]
    assert argv[0].endswith("mitmweb")
    assert "--set=web_columns=comment" in argv
    assert argv[-1] == "~marker :no_entry:"  # mitmproxy reads a filter only as the last argument


def test_web_keeps_the_users_own_columns(execv):
    cli.main(["web", "--set", "web_columns=path"])
    assert not any(a.startswith("--set=web_columns") for a in execv[0])


def test_subcommand_help_is_argparse(capsys):
    with pytest.raises(SystemExit):
        cli.main(["dump", "--help"])
    assert "mitmdump" in capsys.readouterr().out


def test_dump_shows_only_verdicts_unless_asked_for_request_lines(execv):
    cli.main(["dump"])
    assert "--set=flow_detail=0" in execv[0]  # request lines would print query strings, where tokens travel
    cli.main(["dump", "--set", "flow_detail=1"])
    assert "--set=flow_detail=0" not in execv[1]
    cli.main(["dump", "-v"])
    assert "--set=flow_detail=0" not in execv[2]
