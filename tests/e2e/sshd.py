"""A private OpenSSH server on 127.0.0.1 for end-to-end tests, and the ssh command to reach it.

Everything lives in a temporary directory: a generated host key, a generated user key,
its ``authorized_keys``, the config and the pid file. The server runs in the foreground
(``sshd -D``) as a child of the test and is stopped after it. ``scripts/test`` installs
``openssh-server`` and ``openssh-client`` where the machine allows it.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

#: Where Debian puts the daemon (not on a normal user's PATH).
_SSHD_PLACES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")


def find_sshd() -> str | None:
    """The sshd binary, if installed."""
    found = shutil.which("sshd")
    if found:
        return found
    return next((place for place in _SSHD_PLACES if os.access(place, os.X_OK)), None)


def missing_tools() -> list[str]:
    """The OpenSSH programs this machine lacks."""
    missing = [] if find_sshd() else ["sshd"]
    return missing + [tool for tool in ("ssh", "ssh-keygen") if shutil.which(tool) is None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SSHServer:
    """``sshd`` on 127.0.0.1 accepting one generated key for the current user."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.user = getpass.getuser()
        self.key = root / "id_user"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SSHServer:
        """Generate the keys and the config, start the daemon and wait until it listens.

        Raises:
            RuntimeError: The daemon did not start (its own error is in the message).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        host_key = self.root / "host_key"
        for path in (host_key, self.key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                check=True,
                capture_output=True,
                timeout=30,
            )
        authorized = self.root / "authorized_keys"
        authorized.write_text(self.key.with_suffix(".pub").read_text())
        authorized.chmod(0o600)
        config = self.root / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {self.root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    # The test's files are not in a home directory with strict modes.
                    "StrictModes no",
                    "UsePAM no",
                    "PermitRootLogin prohibit-password",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            # Privilege separation needs its empty directory (made by the package's
            # service, which never ran here).
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        sshd = find_sshd()
        assert sshd is not None
        self._process = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"sshd did not start: {error.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen within 20 s")

    def stop(self) -> None:
        """Stop the daemon (sessions it still serves end with it)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        if self._process is not None and self._process.stderr is not None:
            self._process.stderr.close()

    def command(self, remote: list[str], env: Mapping[str, str]) -> list[str]:
        """The ``ssh`` command running ``remote`` on this server with ``env``, in a terminal."""
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        return [
            "ssh",
            "-tt",
            "-i",
            str(self.key),
            "-p",
            str(self.port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            f"{self.user}@127.0.0.1",
            f"cd / && exec env {exports} {shlex.join(remote)}",
        ]
