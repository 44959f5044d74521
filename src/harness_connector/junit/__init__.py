"""JUnit/xUnit XML reports → `TestResult` records, streamed, in bounded memory, safe against hostile files.

Reads the dialects people produce: pytest, Maven Surefire and Failsafe (with `flakyFailure`/`rerunFailure`
reruns), Gradle, jest-junit, mocha-junit-reporter, Cypress, Playwright, go-junit-report, gotestsum, PHPUnit,
and NUnit/xUnit.net exported as JUnit. Imports only `domain` and `errors`: it knows nothing of Harness or the store.

```python
context = JUnitContext(execution_id="exec-1", pipeline_id="build", commit_sha="abc123", branch="main")
for path in find_report_files(["target/surefire-reports", "reports/**/*.xml"]).files:
    with store.transaction():                     # a JUnitError rolls the whole file back
        summary = stream_into(path, context, store.add_test_results)
```

`test_id(suite, class_name, name)` is the stable id every part of the connector uses (rule in `ids.py`).
"""

from harness_connector.junit.api import iter_results, parse_file, stream_into
from harness_connector.junit.cases import QUARANTINE_XFAIL_PREFIX
from harness_connector.junit.ids import normalise_part, test_id
from harness_connector.junit.model import (
    CaseDetail,
    FileSummary,
    JUnitContext,
    JUnitError,
    JUnitLimits,
    ParsedFile,
)
from harness_connector.junit.parser import JUnitStream
from harness_connector.junit.paths import ReportPaths, find_report_files, is_junit_file

__all__ = [
    "QUARANTINE_XFAIL_PREFIX",
    "CaseDetail",
    "FileSummary",
    "JUnitContext",
    "JUnitError",
    "JUnitLimits",
    "JUnitStream",
    "ParsedFile",
    "ReportPaths",
    "find_report_files",
    "is_junit_file",
    "iter_results",
    "normalise_part",
    "parse_file",
    "stream_into",
    "test_id",
]
