"""Where things are and how mitmproxy is started: the one place that builds a mitmdump/mitmweb command line.

The `-s` scripts live inside the package (`apigw_doctor/scripts/`), so an installed wheel can load them; the
top-level `addons/*.py` files of a checkout are shims for `mitmdump -s addons/...`. Nothing here imports the rest
of the package, so every module that starts mitmproxy (the CLI, the demo, the sandbox) can import it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SCRIPTS_DIR = PACKAGE_DIR / "scripts"
ADDON_SCRIPT = SCRIPTS_DIR / "apigw_doctor_addon.py"  # the doctor, its commands and the evidence exporter
SANDBOX_SCRIPT = SCRIPTS_DIR / "apigw_doctor_sandbox.py"  # sends the sandbox's AWS host names to the local sandbox

# mitmweb's flow list with the verdict column (mitmweb's own default lacks `comment`).
WEB_COLUMNS = ("icon", "method", "path", "status", "size", "time", "comment")

# A debugging proxy sees tokens: it listens on loopback unless the user chooses an address.
DEFAULT_LISTEN_HOST = "127.0.0.1"

# mitmdump's request lines (flow_detail 1) print URLs with their query strings, where tokens sometimes travel.
# Unless the user chooses a detail level, the terminal shows only the verdicts, which never hold a secret.
_DETAIL_FLAGS = ("--flow-detail", "-v", "--verbose", "-q", "--quiet")


def checkout_root() -> Path | None:
    """The repository root when running from a checkout (`addons/apigw_doctor/`), else None."""
    root = PACKAGE_DIR.parents[1]
    return root if PACKAGE_DIR.parent.name == "addons" and (root / "pyproject.toml").is_file() else None


def certs_dir() -> Path:
    """The project's `certs/` folder in a checkout; `~/.apigw-doctor/certs` for an installed package."""
    root = checkout_root()
    return root / "certs" if root is not None else Path.home() / ".apigw-doctor" / "certs"


def tool_path(name: str) -> str:
    """mitmdump/mitmweb from this Python's environment first, so the addon's dependencies are importable."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def program() -> str:
    """How the user can type this command again: `apigw-doctor` when it is on PATH, else its path (a venv's bin)."""
    beside = Path(sys.executable).parent / "apigw-doctor"
    on_path = shutil.which("apigw-doctor")
    if on_path and Path(on_path).resolve() == beside.resolve():
        return "apigw-doctor"
    try:
        return os.path.relpath(beside)
    except ValueError:
        return str(beside)


def _split_set(args: Sequence[str]) -> list[str]:
    """`--set=NAME=VALUE` as `--set NAME=VALUE`: mitmproxy prints a misleading "uses underscores, please use
    hyphens" line for every `--set=` argument whose option name has an underscore."""
    out: list[str] = []
    for arg in args:
        if arg.startswith("--set="):
            out += ["--set", arg.removeprefix("--set=")]
        else:
            out.append(arg)
    return out


def _sets(args: Sequence[str], name: str) -> bool:
    """Does the user's command line set option `name` (`--set name=...`, or its `--name-with-hyphens` flag)?"""
    flag = "--" + name.replace("_", "-")
    return any(a.startswith((f"{name}=", flag)) for a in args)


def mitmproxy_command(
    tool: str,
    args: Sequence[str] = (),
    *,
    confdir: Path | None = None,
    sandbox: bool = False,
) -> list[str]:
    """`tool` (mitmdump or mitmweb) with the doctor (and with `sandbox`, the sandbox redirect), `confdir` (default:
    `certs_dir()`), loopback listening, and for mitmweb the verdict column, for mitmdump `flow_detail=0`, each
    unless `args` chooses otherwise. `args` follow, so a positional filter stays last."""
    args = _split_set(args)
    scripts = [ADDON_SCRIPT, SANDBOX_SCRIPT] if sandbox else [ADDON_SCRIPT]
    confdir = confdir or certs_dir()
    confdir.mkdir(parents=True, exist_ok=True)
    command = [tool_path(tool)]
    for script in scripts:
        command += ["-s", str(script)]
    command += ["--set", f"confdir={confdir}"]
    if not _sets(args, "listen_host"):
        command += ["--set", f"listen_host={DEFAULT_LISTEN_HOST}"]
    if Path(tool).name == "mitmweb" and not _sets(args, "web_columns"):
        command += [arg for column in WEB_COLUMNS for arg in ("--set", f"web_columns={column}")]
    if Path(tool).name == "mitmdump" and not (_sets(args, "flow_detail") or any(a in _DETAIL_FLAGS for a in args)):
        command += ["--set", "flow_detail=0"]
    return [*command, *args]
