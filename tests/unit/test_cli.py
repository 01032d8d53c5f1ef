"""The CLI's hand-off to mitmdump/mitmweb (the launch module's one command builder): the user's arguments pass
through untouched and last, the defaults (loopback, verdict column, quiet request lines) give way to the user's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from apigw_doctor import cli, launch


@pytest.fixture
def execv(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: calls.append(list(argv)))
    return calls


def _set(argv: list[str]) -> list[str]:
    """The values of every `--set NAME=VALUE` pair."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--set"]


def test_dump_passes_options_and_flags_through(execv):
    cli.main(["dump", "--set", "apigw_user_pools=us-east-1_AbCdEf123", "-r", "capture.har", "~marked"])
    argv = execv[0]
    assert argv[0].endswith("mitmdump")
    assert argv[1:3] == ["-s", str(launch.ADDON_SCRIPT)]
    assert f"confdir={launch.certs_dir()}" in _set(argv)
    assert argv[-5:] == ["--set", "apigw_user_pools=us-east-1_AbCdEf123", "-r", "capture.har", "~marked"]


def test_the_addon_script_is_inside_the_package():
    """A wheel holds only the package: the script mitmproxy loads must be one of its files."""
    assert launch.ADDON_SCRIPT.is_file()
    assert launch.ADDON_SCRIPT.is_relative_to(launch.PACKAGE_DIR)
    assert launch.SANDBOX_SCRIPT.is_file()
    assert launch.SANDBOX_SCRIPT.is_relative_to(launch.PACKAGE_DIR)


def test_web_adds_the_verdict_column_before_a_positional_filter(execv):
    cli.main(["web", "~marker :no_entry:"])
    argv = execv[0]
    assert argv[0].endswith("mitmweb")
    assert "web_columns=comment" in _set(argv)
    assert argv[-1] == "~marker :no_entry:"  # mitmproxy reads a filter only as the last argument


def test_web_keeps_the_users_own_columns(execv):
    cli.main(["web", "--set", "web_columns=path"])
    assert [v for v in _set(execv[0]) if v.startswith("web_columns")] == ["web_columns=path"]


def test_no_argument_makes_mitmproxy_print_its_underscores_warning(execv):
    """mitmproxy prints "... uses underscores, please use hyphens" for each `--set=name_with_underscore` argument."""
    cli.main(["web", "--set=apigw_scopes=orders/read"])
    cli.main(["dump"])
    for argv in execv:
        assert not [a for a in argv if a.startswith("--") and "_" in a], argv
    assert "apigw_scopes=orders/read" in _set(execv[0])


def test_the_proxy_listens_on_loopback_unless_the_user_chooses(execv):
    cli.main(["dump"])
    cli.main(["web"])
    cli.main(["dump", "--set", "listen_host=0.0.0.0"])
    cli.main(["dump", "--listen-host", "192.0.2.1"])
    assert "listen_host=127.0.0.1" in _set(execv[0])
    assert "listen_host=127.0.0.1" in _set(execv[1])
    assert [v for v in _set(execv[2]) if v.startswith("listen_host")] == ["listen_host=0.0.0.0"]
    assert not [v for v in _set(execv[3]) if v.startswith("listen_host")]


def test_subcommand_help_is_argparse(capsys):
    with pytest.raises(SystemExit):
        cli.main(["dump", "--help"])
    assert "mitmdump" in capsys.readouterr().out


def test_dump_shows_only_verdicts_unless_asked_for_request_lines(execv):
    cli.main(["dump"])
    assert "flow_detail=0" in _set(execv[0])  # request lines would print query strings, where tokens travel
    cli.main(["dump", "--set", "flow_detail=1"])
    assert "flow_detail=0" not in _set(execv[1])
    cli.main(["dump", "-v"])
    assert "flow_detail=0" not in _set(execv[2])


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_importing_the_offline_analyser_builds_no_addons():
    """Addon instances are built by the `-s` scripts that hand them to mitmproxy, not by importing a module."""
    out = _fresh(
        "import apigw_doctor.addon as a, apigw_doctor.cli_analyze\n"
        "built = []\n"
        "orig = a.ApiGwDoctor.__init__\n"
        "a.ApiGwDoctor.__init__ = lambda self: (built.append(1), orig(self))[1]\n"
        "import importlib; importlib.reload(apigw_doctor.cli_analyze)\n"
        "print(hasattr(a, 'addons'), len(built))"
    )
    assert out == "False 0"


@pytest.mark.parametrize("module", ["cli", "demo", "demo_proc", "demo_web", "launch", "sandbox.__main__"])
def test_each_cli_module_imports_first_without_a_cycle(module):
    """Each module imports on its own in a fresh interpreter, and none of cli/demo/demo_proc/demo_web imports cli."""
    _fresh(f"import apigw_doctor.{module}")
    for name in ("demo", "demo_proc", "demo_web", "launch"):
        source = (launch.PACKAGE_DIR / f"{name}.py").read_text()
        assert "from . import cli" not in source and "from .cli " not in source
