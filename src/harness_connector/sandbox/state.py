"""The sandbox's state: one SQLite file (or memory) holding what a Harness account holds.

Plain resources (orgs, projects, connectors, pipelines, ...) are JSON documents keyed by kind and scope;
executions are `ExecutionRecord`s; logs are either stored lines (live runs) or recipes rendered on request
(generated history); test results are rows per build, as ti-service keeps them. Route handlers run in a thread
pool, so every access goes through one lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness_connector.sandbox.log_entries import encode_entries
from harness_connector.sandbox.model import ExecutionRecord, LogRecipe, TestCaseRow

__all__ = ["Entity", "SandboxState", "Token"]

_CHUNK_LINES = 20_000  # lines of a live log per stored chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
    org TEXT NOT NULL DEFAULT '', project TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL, org TEXT NOT NULL, project TEXT NOT NULL, parent TEXT NOT NULL, identifier TEXT NOT NULL,
    doc TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, org, project, parent, identifier)
);
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, project TEXT NOT NULL, pipeline TEXT NOT NULL,
    run_sequence INTEGER NOT NULL, status TEXT NOT NULL, start_ts INTEGER NOT NULL, end_ts INTEGER,
    branch TEXT, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_project ON executions (org, project, start_ts DESC);
CREATE INDEX IF NOT EXISTS executions_by_pipeline ON executions (org, project, pipeline, run_sequence);
CREATE TABLE IF NOT EXISTS log_recipes (key TEXT PRIMARY KEY, recipe TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log_chunks (
    key TEXT NOT NULL, first_pos INTEGER NOT NULL, line_count INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (key, first_pos)
);
CREATE TABLE IF NOT EXISTS test_cases (
    org TEXT NOT NULL, project TEXT NOT NULL, pipeline TEXT NOT NULL, build_id INTEGER NOT NULL,
    stage_id TEXT NOT NULL, step_id TEXT NOT NULL, suite TEXT NOT NULL, class_name TEXT NOT NULL,
    name TEXT NOT NULL, status TEXT NOT NULL, duration_ms INTEGER NOT NULL, file_name TEXT, message TEXT,
    failure_type TEXT, stdout TEXT, stderr TEXT
);
CREATE INDEX IF NOT EXISTS test_cases_by_build ON test_cases (org, project, pipeline, build_id, suite);
CREATE TABLE IF NOT EXISTS delegate_tasks (
    task_id TEXT PRIMARY KEY, execution_id TEXT NOT NULL, org TEXT NOT NULL, project TEXT NOT NULL,
    selectors TEXT NOT NULL, status TEXT NOT NULL, delegate_id TEXT, delegate_name TEXT,
    available_at INTEGER NOT NULL, payload TEXT NOT NULL, result TEXT, recorded_at INTEGER,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS delegate_tasks_by_status ON delegate_tasks (status, available_at);
CREATE INDEX IF NOT EXISTS delegate_tasks_by_execution ON delegate_tasks (execution_id);
"""


@dataclass(frozen=True, slots=True)
class Entity:
    """A stored resource document with its bookkeeping times."""

    kind: str
    org: str
    project: str
    parent: str
    identifier: str
    doc: dict[str, Any]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Token:
    """An API token the sandbox accepts; `org`/`project` non-empty limits it to that scope."""

    token: str
    name: str
    kind: str  # pat | sat
    org: str = ""
    project: str = ""


class SandboxState:
    """Thread-safe access to the sandbox's SQLite state."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._move_old_log_lines()

    def _move_old_log_lines(self) -> None:
        """Files written before logs were kept in chunks have a `log_lines` table: move its lines, then drop it."""
        if not self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_lines'"):
            return
        with self.transaction() as db:  # all keys move, or none (and the next open tries again)
            for (key,) in db.execute("SELECT DISTINCT key FROM log_lines").fetchall():
                rows = db.execute("SELECT level, time, out FROM log_lines WHERE key = ? ORDER BY pos", (key,))
                _insert_log_lines(db, str(key), [(str(level), str(time), str(out)) for level, time, out in rows])
            db.execute("DROP TABLE log_lines")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run several writes atomically: all land or none do."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query and return all rows (as tuples addressable by index)."""
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    # ---- meta and tokens --------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def add_token(self, token: Token) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO tokens (token, name, kind, org, project) VALUES (?, ?, ?, ?, ?)",
                (token.token, token.name, token.kind, token.org, token.project),
            )

    def find_token(self, token: str) -> Token | None:
        rows = self.query("SELECT token, name, kind, org, project FROM tokens WHERE token = ?", (token,))
        return Token(*rows[0]) if rows else None

    def tokens(self) -> list[Token]:
        return [Token(*row) for row in self.query("SELECT token, name, kind, org, project FROM tokens ORDER BY name")]

    # ---- entities ---------------------------------------------------------------------------------------

    def get_entity(
        self, kind: str, identifier: str, *, org: str = "", project: str = "", parent: str = ""
    ) -> Entity | None:
        rows = self.query(
            "SELECT kind, org, project, parent, identifier, doc, created_at, updated_at FROM entities "
            "WHERE kind = ? AND org = ? AND project = ? AND parent = ? AND identifier = ?",
            (kind, org, project, parent, identifier),
        )
        return _entity(rows[0]) if rows else None

    def list_entities(self, kind: str, *, org: str = "", project: str = "", parent: str | None = None) -> list[Entity]:
        sql = (
            "SELECT kind, org, project, parent, identifier, doc, created_at, updated_at FROM entities "
            "WHERE kind = ? AND org = ? AND project = ?"
        )
        params: list[Any] = [kind, org, project]
        if parent is not None:
            sql += " AND parent = ?"
            params.append(parent)
        return [_entity(row) for row in self.query(sql + " ORDER BY created_at, identifier", params)]

    def put_entity(self, entity: Entity) -> None:
        """Insert or replace a document (the caller decides whether a duplicate is an error)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO entities (kind, org, project, parent, identifier, doc, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entity.kind,
                    entity.org,
                    entity.project,
                    entity.parent,
                    entity.identifier,
                    json.dumps(entity.doc, sort_keys=True),
                    entity.created_at,
                    entity.updated_at,
                ),
            )

    def delete_entity(self, kind: str, identifier: str, *, org: str = "", project: str = "", parent: str = "") -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM entities WHERE kind = ? AND org = ? AND project = ? AND parent = ? AND identifier = ?",
                (kind, org, project, parent, identifier),
            )
            return cursor.rowcount > 0

    # ---- executions -------------------------------------------------------------------------------------

    def put_execution(self, record: ExecutionRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO executions "
                "(id, org, project, pipeline, run_sequence, status, start_ts, end_ts, branch, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _execution_row(record),
            )

    def put_executions(self, records: Sequence[ExecutionRecord]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO executions "
                "(id, org, project, pipeline, run_sequence, status, start_ts, end_ts, branch, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_execution_row(r) for r in records],
            )

    def get_execution(self, plan_execution_id: str) -> ExecutionRecord | None:
        rows = self.query("SELECT doc FROM executions WHERE id = ?", (plan_execution_id,))
        return ExecutionRecord.model_validate_json(rows[0][0]) if rows else None

    def next_run_sequence(self, org: str, project: str, pipeline: str) -> int:
        rows = self.query(
            "SELECT COALESCE(MAX(run_sequence), 0) FROM executions WHERE org = ? AND project = ? AND pipeline = ?",
            (org, project, pipeline),
        )
        return int(rows[0][0]) + 1

    # ---- logs -------------------------------------------------------------------------------------------

    def put_log_recipes(self, recipes: Sequence[tuple[str, LogRecipe]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO log_recipes (key, recipe) VALUES (?, ?)",
                [(key, recipe.model_dump_json()) for key, recipe in recipes],
            )

    def get_log_recipe(self, key: str) -> LogRecipe | None:
        rows = self.query("SELECT recipe FROM log_recipes WHERE key = ?", (key,))
        return LogRecipe.model_validate_json(rows[0][0]) if rows else None

    def log_keys_with_prefix(self, prefix: str) -> list[str]:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.query(
            "SELECT key FROM log_recipes WHERE key LIKE ? ESCAPE '\\' "
            "UNION SELECT DISTINCT key FROM log_chunks WHERE key LIKE ? ESCAPE '\\' ORDER BY 1",
            (pattern, pattern),
        )
        return [str(row[0]) for row in rows]

    def append_log_lines(self, key: str, lines: Sequence[tuple[str, str, str]]) -> None:
        """Append (level, time, out) lines to a live log, numbering them after what is there.

        Lines are kept as the log service serves them, encoded JSON lines in chunks of up to `_CHUNK_LINES`,
        as Harness's log service keeps a stream's flushed pieces: serving a log is then reading a few blobs, and
        a half-million-line log is served at disk speed rather than re-encoded on every read.
        """
        with self.transaction() as db:
            _insert_log_lines(db, key, lines)

    def has_log_lines(self, key: str) -> bool:
        """Whether a live log has stored lines under this key."""
        return bool(self.query("SELECT 1 FROM log_chunks WHERE key = ? LIMIT 1", (key,)))

    def stored_log_chunks(self, key: str) -> Iterator[bytes]:
        """A live log's JSON lines in order, a stored chunk at a time (each ends in a newline).

        Read one chunk per query, so the lock is never held for long while a run appends to the same log.
        """
        after = -1
        while True:
            rows = self.query(
                "SELECT first_pos, body FROM log_chunks WHERE key = ? AND first_pos > ? ORDER BY first_pos LIMIT 1",
                (key, after),
            )
            if not rows:
                return
            after = int(rows[0][0])
            yield bytes(rows[0][1])

    # ---- test reports -----------------------------------------------------------------------------------

    def add_test_cases(
        self,
        *,
        org: str,
        project: str,
        pipeline: str,
        build_id: int,
        stage_id: str,
        step_id: str,
        cases: Sequence[TestCaseRow],
    ) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO test_cases (org, project, pipeline, build_id, stage_id, step_id, suite, class_name, "
                "name, status, duration_ms, file_name, message, failure_type, stdout, stderr) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        org,
                        project,
                        pipeline,
                        build_id,
                        stage_id,
                        step_id,
                        c.suite,
                        c.class_name,
                        c.name,
                        c.status,
                        c.duration_ms,
                        c.file_name,
                        c.message,
                        c.failure_type,
                        c.stdout,
                        c.stderr,
                    )
                    for c in cases
                ],
            )


def _entity(row: sqlite3.Row | tuple[Any, ...]) -> Entity:
    kind, org, project, parent, identifier, doc, created_at, updated_at = row
    return Entity(kind, org, project, parent, identifier, json.loads(doc), int(created_at), int(updated_at))


def _execution_row(record: ExecutionRecord) -> tuple[Any, ...]:
    return (
        record.plan_execution_id,
        record.org,
        record.project,
        record.pipeline_id,
        record.run_sequence,
        record.status.value,
        record.start_ts,
        record.end_ts,
        record.branch,
        record.model_dump_json(),
    )


def _insert_log_lines(db: sqlite3.Connection, key: str, lines: Sequence[tuple[str, str, str]]) -> None:
    """Append (level, time, out) lines to a key's chunks, numbered after the last stored line (in a transaction)."""
    row = db.execute("SELECT COALESCE(MAX(first_pos + line_count), 0) FROM log_chunks WHERE key = ?", (key,)).fetchone()
    start = int(row[0])
    for offset in range(0, len(lines), _CHUNK_LINES):
        piece = lines[offset : offset + _CHUNK_LINES]
        first = start + offset
        body = b"".join(encode_entries((first + i, *line) for i, line in enumerate(piece)))
        db.execute(
            "INSERT INTO log_chunks (key, first_pos, line_count, body) VALUES (?, ?, ?, ?)",
            (key, first, len(piece), body),
        )
