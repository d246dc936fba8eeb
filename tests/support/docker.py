"""A Docker engine of the tests' own: ``dockerd`` started on a socket of its own with what a
sandbox without systemd, iptables or a bridge allows (vfs storage, host networking only), and
stopped by its process id. The test images are copied in from Podman's store, where
``.ci/test-image.sh`` imports them (no registry can be reached to pull from)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from support.pythons import missing

# Kept between runs where the tests may write it, so the images are loaded once per machine.
_HOME = Path("/var/cache/hatch-lambda-tests/docker")
_START_TIMEOUT = 60.0
IMAGES = ("localhost/hatch-lambda-test:x86_64", "localhost/hatch-lambda-test:arm64")


@dataclass(frozen=True)
class Daemon:
    host: str  # the DOCKER_HOST value
    pid: int
    log: Path

    @property
    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host}

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", *args], env={**os.environ, **self.env}, capture_output=True, text=True,
            check=check, timeout=600,
        )  # fmt: skip

    def created_since(self, since: float) -> int:
        """How many containers the engine created from *since* (a time.time()) to now."""
        out = self.docker(
            "events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
            "--filter", "type=container", "--filter", "event=create", "--format", "{{.ID}}",
        )  # fmt: skip
        return len(out.stdout.split())


def _stop(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        for _ in range(300):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def _home() -> Path:
    try:
        _HOME.mkdir(parents=True, exist_ok=True)
        return _HOME
    except OSError:
        return Path(tempfile.mkdtemp(prefix="hatch-lambda-docker-"))


@contextmanager
def docker_daemon() -> Iterator[Daemon]:
    """A running engine with the test images, or a skip (a failure under strict mode) that says
    what is missing."""
    for tool in ("dockerd", "docker"):
        if shutil.which(tool) is None:
            missing(f"{tool} is not installed (apt-get install docker.io)")
    home = _home()
    pidfile = home / "docker.pid"
    if pidfile.is_file():  # left by an interrupted run: it is ours, by its data root
        with suppress(ValueError):
            _stop(int(pidfile.read_text().strip() or 0) or -1)
        pidfile.unlink(missing_ok=True)
    socket = home / "docker.sock"
    log = home / "dockerd.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["dockerd", "--storage-driver", "vfs", "--iptables=false", "--bridge=none",
             "--data-root", str(home / "root"), "--exec-root", str(home / "exec"),
             "--pidfile", str(pidfile), "-H", f"unix://{socket}"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    daemon = Daemon(f"unix://{socket}", proc.pid, log)
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while daemon.docker("info", check=False).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
                missing(f"dockerd did not start here:\n{tail}")
            time.sleep(0.5)
        for image in IMAGES:
            _load(daemon, image)
        yield daemon
    finally:
        _stop(proc.pid)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def _load(daemon: Daemon, image: str) -> None:
    if daemon.docker("image", "inspect", image, check=False).returncode == 0:
        return
    env = {**os.environ, "CONTAINERS_CONF": os.environ.get(
        "CONTAINERS_CONF", "/etc/containers/hatch-lambda-tests.conf")}  # fmt: skip
    if subprocess.run(["podman", "image", "exists", image], env=env, check=False).returncode:
        missing(f"the test image {image} is missing (run .ci/test-image.sh)")
    save = subprocess.Popen(
        ["podman", "save", "--format", "docker-archive", image], env=env, stdout=subprocess.PIPE
    )
    load = subprocess.run(
        ["docker", "load"], stdin=save.stdout, env={**os.environ, **daemon.env},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    save.wait()
    assert save.returncode == 0 and load.returncode == 0, load.stderr
