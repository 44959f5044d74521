"""The outbox: what finished tasks still owe the manager, on disk, atomically, in the order they finished."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness_connector.delegate.outbox import Outbox, PendingDelivery, safe_name


def record(
    task_id: str,
    finished_ns: int = 0,
    *,
    log_batches: list[list[dict[str, Any]]] | None = None,
    report_query: dict[str, str] | None = None,
    report_batches: list[list[dict[str, Any]]] | None = None,
) -> PendingDelivery:
    return PendingDelivery(
        task_id=task_id,
        log_key=f"logs/{task_id}",
        result={"status": "SUCCESS", "startedAt": 1, "finishedAt": 2},
        finished_ns=finished_ns,
        log_batches=log_batches or [],
        report_query=report_query or {},
        report_batches=report_batches or [],
    )


def test_records_come_back_oldest_finished_first_whatever_their_names(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.put(record("zz", finished_ns=100))
    outbox.put(record("aa", finished_ns=300))
    outbox.put(record("mm", finished_ns=200))

    assert [r.task_id for r in outbox.pending()] == ["zz", "mm", "aa"]
    oldest = outbox.oldest()
    assert oldest is not None and oldest.task_id == "zz"
    assert outbox.task_ids() == {"zz", "aa", "mm"}
    assert len(outbox) == 3


def test_a_record_survives_a_restart_with_every_part(tmp_path: Path) -> None:
    batches = [[{"level": "INFO", "out": "line 1", "time": "t"}], [{"level": "WARN", "out": "line 2", "time": "t"}]]
    rows = [[{"name": "test_a", "result": {"status": "passed"}}]]
    Outbox(tmp_path).put(
        record("t1", finished_ns=5, log_batches=batches, report_query={"buildId": "7"}, report_batches=rows)
    )

    again = Outbox(tmp_path).pending()

    assert again == [
        record("t1", finished_ns=5, log_batches=batches, report_query={"buildId": "7"}, report_batches=rows)
    ]


def test_put_stamps_the_finish_time_when_the_record_has_none(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path, clock_ns=lambda: 42)
    outbox.put(record("t1"))
    assert outbox.pending()[0].finished_ns == 42


def test_rewriting_a_record_replaces_it_and_removing_it_forgets_it(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    pending = record("t1", finished_ns=1, log_batches=[[{"out": "a"}], [{"out": "b"}]])
    outbox.put(pending)
    del pending.log_batches[0]
    outbox.put(pending)

    assert Outbox(tmp_path).pending()[0].log_batches == [[{"out": "b"}]]
    outbox.remove("t1")
    assert outbox.pending() == [] and outbox.oldest() is None
    assert list((tmp_path / "outbox").iterdir()) == []


def test_a_write_that_fails_before_the_rename_leaves_the_old_record_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = Outbox(tmp_path)
    outbox.put(record("t1", finished_ns=1, log_batches=[[{"out": "old"}]]))

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        outbox.put(record("t1", finished_ns=1, log_batches=[[{"out": "new"}]]))
    monkeypatch.undo()

    assert Outbox(tmp_path).pending()[0].log_batches == [[{"out": "old"}]]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["t1.json"]


def test_temporary_files_left_by_a_killed_process_are_removed_at_start(tmp_path: Path) -> None:
    Outbox(tmp_path).put(record("t1", finished_ns=1))
    (tmp_path / "outbox" / ".t1.abc123.tmp").write_text("{half a rec", encoding="utf-8")

    outbox = Outbox(tmp_path)

    assert [r.task_id for r in outbox.pending()] == ["t1"]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["t1.json"]


def test_an_unreadable_record_is_set_aside_and_the_others_still_delivered(tmp_path: Path) -> None:
    Outbox(tmp_path).put(record("good", finished_ns=2))
    (tmp_path / "outbox" / "bad.json").write_text("not json", encoding="utf-8")

    outbox = Outbox(tmp_path)

    assert [r.task_id for r in outbox.pending()] == ["good"]
    assert (tmp_path / "outbox" / "bad.corrupt").read_text(encoding="utf-8") == "not json"


def test_a_task_id_that_could_escape_the_directory_gets_a_digest_as_its_file_name(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.put(record("../../etc/passwd", finished_ns=1))

    (written,) = (tmp_path / "outbox").iterdir()
    assert written.name == f"{safe_name('../../etc/passwd')}.json"
    assert written.name.startswith("task-") and "/" not in written.name
    assert json.loads(written.read_text(encoding="utf-8"))["taskId"] == "../../etc/passwd"
    assert safe_name("task-123_a.b") == "task-123_a.b"
