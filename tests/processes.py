"""Child processes the tests start (a moto S3 server, redis-server, Celery workers)."""

import subprocess


def stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """Ask a running child to end, then kill it if it has not within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
