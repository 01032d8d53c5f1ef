"""The built wheel, installed into a fresh venv outside the checkout (once per test session).

This is the install path a user without the repository has: `pip install apigw-doctor[demo]`. The wheel is built
from a copy of the project's files (so the checkout gets no `build/` folder), the venv has no system site-packages,
and the dependencies come from the package index as pip is configured. Everything then runs with the working
directory and HOME outside the checkout, so nothing can be found there by accident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "addons/apigw_doctor")


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path  # HOME for the commands (the installed CLI keeps its CA in ~/.apigw-doctor/certs)
    workdir: Path  # an empty working directory outside the checkout

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def env(self) -> dict[str, str]:
        drop = ("http_proxy", "https_proxy", "all_proxy", "pythonpath", "virtual_env", "pythonhome")
        out = {k: v for k, v in os.environ.items() if k.lower() not in drop}
        out |= {"HOME": str(self.home), "PYTHONUNBUFFERED": "1", "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin"}
        return out

    def run(self, *argv: str | Path, timeout: float = 300, stdin: str = "") -> subprocess.CompletedProcess[str]:
        argv_ = [str(a) for a in argv]
        return subprocess.run(argv_, check=False, cwd=self.workdir, env=self.env(), input=stdin, text=True,
                              capture_output=True, timeout=timeout)  # fmt: skip


def _copy_project(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _pip(python: Path | str, *args: str, cwd: Path) -> None:
    argv = [str(python), "-m", "pip", "--quiet", *args]
    result = subprocess.run(argv, check=False, cwd=cwd, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("wheel-install")
    source, dist, venv, home, work = (root / n for n in ("src", "dist", "venv", "home", "work"))
    for d in (home, work):
        d.mkdir()
    _copy_project(source)
    _pip(sys.executable, "wheel", "--no-deps", "--wheel-dir", str(dist), str(source), cwd=root)
    wheels = list(dist.glob("apigw_doctor-*.whl"))
    assert len(wheels) == 1, wheels
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    _pip(venv / "bin" / "python", "install", f"{wheels[0]}[demo]", cwd=root)
    yield Installed(venv, home, work)
