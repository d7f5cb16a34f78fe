"""A clamd of the test's own: Debian's /usr/sbin/clamd on a free 127.0.0.1 port, with the tiny
signature database in tests/clamav/ (an EICAR signature, nothing real), in the foreground.

Its address is chosen when the object is made, so a test can point the settings (or a worker)
at it before it runs: a scanner that is down, then comes up.
"""

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CLAMD = "/usr/sbin/clamd"
SIGNATURES = Path(__file__).parent / "clamav"


def eicar() -> bytes:
    """The EICAR test file's 68 bytes, put together here so no file in the repository is one."""
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(address: str, timeout: float = 1.0) -> bool:
    """clamd at the address (host:port or a socket file) answers PING with PONG."""
    try:
        if address.startswith("/"):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(timeout)
            connection.connect(address)
        else:
            host, _sep, port = address.rpartition(":")
            connection = socket.create_connection((host, int(port)), timeout=timeout)
        with connection:
            connection.sendall(b"nPING\n")
            return connection.recv(16).strip() == b"PONG"
    except OSError:
        return False


class ClamdServer:
    def __init__(self, folder: Path, *, unix_socket: bool = False) -> None:
        """On a free 127.0.0.1 port, or (unix_socket) on a socket file in the folder."""
        self.folder = folder
        self.port = free_port()
        self.socket = folder / "clamd.sock" if unix_socket else None
        self.address = str(self.socket) if self.socket else f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        database = folder / "db"
        database.mkdir(parents=True, exist_ok=True)
        for signature in SIGNATURES.glob("*.ndb"):
            shutil.copy(signature, database / signature.name)
        self.log = folder / "clamd.log"
        self.config = folder / "clamd.conf"
        self.config.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"DatabaseDirectory {database}",
                    *(
                        [f"LocalSocket {self.socket}"]
                        if self.socket
                        else ["TCPAddr 127.0.0.1", f"TCPSocket {self.port}"]
                    ),
                    f"TemporaryDirectory {folder}",
                    # No User line: clamd stays the test's user (Debian's own conf drops to
                    # clamav). No bytecode database is shipped.
                    "Bytecode no",
                    "OfficialDatabaseOnly no",
                    # Above DOCUMENT_MAX_BYTES: a large upload is scanned, never cut short.
                    "StreamMaxLength 32M",
                    "MaxThreads 4",
                ]
            )
            + "\n"
        )

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [CLAMD, "--config-file", str(self.config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"clamd exited: {self.log_text()}")
            if answers(self.address):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"clamd did not answer PING within {timeout} s: {self.log_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
