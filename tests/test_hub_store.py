"""The hub's store: migrations recorded and applied once, one writer, rollback on error."""

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from hub_server import schema
from hub_server.errors import StoreError
from hub_server.store import Store


def test_a_new_database_is_migrated_and_the_migrations_recorded(tmp_path):
    with Store.in_folder(tmp_path) as store:
        assert store.schema_version() == len(schema.MIGRATIONS)
        names = [row["name"] for row in store.query("SELECT name FROM migrations ORDER BY version")]
        assert names == [name for name, _ in schema.MIGRATIONS]
        assert store.query_one("PRAGMA journal_mode")[0] == "wal"
    with Store.in_folder(tmp_path) as again:
        assert again.migrate() == []


def test_a_database_from_a_newer_hubtap_is_refused(tmp_path):
    with Store.in_folder(tmp_path) as store, store.write() as db:
        db.execute("INSERT INTO migrations VALUES (999, 'future', 'x')")
    with pytest.raises(StoreError, match="newer hubtap"):
        Store.in_folder(tmp_path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / "hub.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the hub database"):
        Store.in_folder(tmp_path)


def test_a_failed_write_leaves_nothing_behind():
    with Store.memory() as store:

        def fail_half_way() -> None:
            with store.write() as db:
                db.execute("INSERT INTO organisations VALUES ('o1', 'One', 'one', 'x')")
                raise RuntimeError("half-way")

        with pytest.raises(RuntimeError):
            fail_half_way()
        assert store.query("SELECT * FROM organisations") == []


def test_triggers_count_changes_that_matter_to_access_lists():
    with Store.memory() as store:
        before = store.counter("access_lists")
        with store.write() as db:
            db.execute("INSERT INTO organisations VALUES ('o1', 'One', 'one', 'x')")
        assert store.counter("access_lists") == before
        with store.write() as db:
            db.execute(
                "INSERT INTO members (id, first_name, last_name, created_at, updated_at)"
                " VALUES ('m1', 'A', 'B', 'x', 'x')"
            )
            db.execute("UPDATE members SET first_name = 'C' WHERE id = 'm1'")
        assert store.counter("access_lists") == before + 1
        with store.write() as db:
            db.execute("UPDATE members SET status = 'suspended' WHERE id = 'm1'")
        assert store.counter("access_lists") == before + 2


def test_writes_from_two_threads_and_a_second_process_connection_are_serialised(tmp_path):
    with Store.in_folder(tmp_path) as store:
        other = sqlite3.connect(tmp_path / "hub.sqlite3", timeout=10)

        def write(prefix: str) -> None:
            for n in range(200):
                with store.write() as db:
                    db.execute(
                        "INSERT INTO organisations VALUES (?, ?, ?, 'x')", (f"{prefix}{n}",) * 3
                    )

        threads = [threading.Thread(target=write, args=(p,)) for p in "ab"]
        for thread in threads:
            thread.start()
        for n in range(100):
            with other:
                other.execute("INSERT INTO organisations VALUES (?, ?, ?, 'x')", (f"c{n}",) * 3)
        for thread in threads:
            thread.join()
        other.close()
        assert store.query_one("SELECT count(*) FROM organisations")[0] == 500


def test_close_is_safe_twice_and_a_closed_store_says_so():
    store = Store.memory()
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.read()


def _open_and_report(folder: str) -> int:
    with Store.in_folder(Path(folder)) as store:
        return store.schema_version()


def test_processes_creating_the_same_new_database_at_once_all_succeed(tmp_path):
    # Spawned, not forked: a fork copies whatever lock another test's thread
    # held at that moment, and the child can wait on it forever.
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        for attempt in range(5):
            folder = str(tmp_path / str(attempt))
            pending = pool.map_async(_open_and_report, [folder] * 3, chunksize=1)
            assert pending.get(timeout=60) == [len(schema.MIGRATIONS)] * 3
