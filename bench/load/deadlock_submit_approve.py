"""Show the submit/approve deadlock the deadline rush found, in two connections, in 2 seconds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_load \\
        .venv/bin/python bench/load/deadlock_submit_approve.py

(any database with one application: `make load` leaves ikm_load so). Nothing is changed: both
transactions roll back.

What the two services do, in their lock order:

- submit updates the application row twice in one transaction (stale.mark_stale, then the
  conditional update in _move) and takes the audit chain's head (audit.record). A row updated
  a second time by the transaction that wrote it has its foreign keys checked again
  (PostgreSQL checks the update of a row its own transaction wrote whatever changed), and
  Django's foreign keys are deferred: at COMMIT it takes FOR KEY SHARE on the programme row.
- approve takes the programme row FOR UPDATE first (application_approve), then the head.

So submit holds the head and waits for the programme at commit; approve holds the programme
and waits for the head: PostgreSQL kills one of them (a 500). This replays the same locks
with plain SQL (SET CONSTRAINTS ALL IMMEDIATE runs the deferred checks as COMMIT would), once
as approve locks now (FOR UPDATE) and once with FOR NO KEY UPDATE, which still serialises
approvals (it conflicts with itself and with programme_update's FOR UPDATE) but not a foreign
key check.
"""

from __future__ import annotations

import os
import threading
import time

import psycopg

DSN = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ikm_load")


def attempt(programme_lock: str) -> dict[str, str]:
    submit_conn, approve_conn = psycopg.connect(DSN), psycopg.connect(DSN)
    row = submit_conn.execute(
        "SELECT id, programme_id FROM subsidy_application ORDER BY id LIMIT 1"
    ).fetchone()
    if row is None:
        raise SystemExit("no application in this database: run `make load` first")
    application, programme = row
    submit_conn.rollback()
    holding_head = threading.Event()
    outcome: dict[str, str] = {}

    def submit() -> None:
        try:
            submit_conn.execute(
                "UPDATE subsidy_application SET data_version = data_version + 1 WHERE id = %s",
                [application],
            )
            submit_conn.execute(
                "UPDATE subsidy_application SET updated_at = now() WHERE id = %s", [application]
            )
            submit_conn.execute("SELECT 1 FROM subsidy_auditchainhead WHERE id = 1 FOR UPDATE")
            holding_head.set()
            time.sleep(0.5)  # approve takes the programme and waits for the head meanwhile
            submit_conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT does first
            outcome["submit"] = "ok"
        except psycopg.Error as error:
            outcome["submit"] = type(error).__name__
        finally:
            submit_conn.rollback()

    def approve() -> None:
        holding_head.wait(5)
        try:
            approve_conn.execute(
                f"SELECT 1 FROM subsidy_programme WHERE id = %s {programme_lock}", [programme]
            )
            approve_conn.execute("SELECT 1 FROM subsidy_auditchainhead WHERE id = 1 FOR UPDATE")
            outcome["approve"] = "ok"
        except psycopg.Error as error:
            outcome["approve"] = type(error).__name__
        finally:
            approve_conn.rollback()

    threads = [threading.Thread(target=submit), threading.Thread(target=approve)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    submit_conn.close()
    approve_conn.close()
    return outcome


if __name__ == "__main__":
    for lock in ("FOR UPDATE", "FOR NO KEY UPDATE"):
        result = attempt(lock)
        print(f"approve locks the programme {lock}: submit {result['submit']}, "
              f"approve {result['approve']}")  # fmt: skip
