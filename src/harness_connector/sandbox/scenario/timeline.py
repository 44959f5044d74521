"""What the teams did: commits on main, pull requests with their commits, and when each push happened.

Each repository gets a linear main history (direct pushes and squash-merged pull requests, in time order) and
pull requests whose commits each trigger a PR build. Work follows office hours (UTC) with quiet weekends.
Regressions (`faults.py`) later mark some of these commits as breaking and add the commits that fix them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from harness_connector.sandbox.scenario.ids import DAY_MS, HOUR_MS, MINUTE_MS, hex_id, stream
from harness_connector.sandbox.scenario.world import COMMIT_PHRASES, USERS, ServiceSpec, User

__all__ = ["Commit", "PullRequest", "RepoHistory", "build_history", "office_time", "poisson", "users_by_id"]

# Relative activity per UTC hour: a European and an American team overlap in the afternoon.
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 6, 12, 16, 17, 15, 12, 16, 18, 18, 15, 12, 8, 6, 4, 3, 2, 1)
_HOURS = tuple(range(24))
_WEEKEND_FACTOR = 0.12


@dataclass(slots=True)
class Commit:
    sha: str
    repo: str
    branch: str
    message: str
    author: str
    ts: int
    parent: str = ""
    pr_number: int | None = None
    index: int = -1  # position in the main history; -1 for pull-request branch commits
    breaks: str = ""  # id of the regression this commit introduces
    fixes: str = ""  # id of the regression this commit fixes


@dataclass(slots=True)
class PullRequest:
    number: int
    repo: str
    title: str
    author: str
    source_branch: str
    created: int
    commits: list[Commit] = field(default_factory=list)
    state: str = "open"  # open | merged | closed
    closed_at: int | None = None
    merge_commit: Commit | None = None


@dataclass(slots=True)
class RepoHistory:
    service: ServiceSpec
    main: list[Commit]
    pulls: list[PullRequest]

    @property
    def repo(self) -> str:
        return self.service.name

    def renumber(self) -> None:
        """Sort main by time and relink parents after commits were added."""
        self.main.sort(key=lambda c: (c.ts, c.sha))
        for index, commit in enumerate(self.main):
            commit.index = index
            commit.parent = self.main[index - 1].sha if index else ""

    def head_at(self, ts: int) -> Commit:
        """The main commit checked out at `ts`."""
        head = self.main[0]
        for commit in self.main:
            if commit.ts > ts:
                break
            head = commit
        return head


def users_by_id() -> dict[str, User]:
    return {user.identifier: user for user in USERS}


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def office_time(rng: random.Random, day_start: int) -> int:
    """A moment of the day `day_start` (UTC midnight), weighted towards office hours."""
    hour = rng.choices(_HOURS, weights=_HOUR_WEIGHTS)[0]
    return day_start + hour * HOUR_MS + int(rng.random() * HOUR_MS)


def _activity(day_start: int) -> float:
    weekday = (day_start // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
    return _WEEKEND_FACTOR if weekday >= 5 else 1.0


def _message(rng: random.Random, svc: ServiceSpec) -> str:
    return rng.choice(COMMIT_PHRASES).format(area=rng.choice(svc.areas))


def _commit(seed: int, svc: ServiceSpec, branch: str, message: str, author: str, ts: int, label: str) -> Commit:
    return Commit(hex_id(seed, "commit", svc.name, label), svc.name, branch, message, author, ts)


def _pull(seed: int, rng: random.Random, svc: ServiceSpec, created: int, end: int) -> PullRequest:
    author = rng.choice(svc.authors)
    title = _message(rng, svc)
    slug = title.split(": ", 1)[-1].replace(" ", "-")[:32].strip("-")
    pr = PullRequest(0, svc.name, title, author, f"{author.split('_')[0]}/{slug}-{rng.randrange(100, 999)}", created)
    ts = created
    for position in range(1 + min(poisson(rng, 1.3), 4)):
        if position:
            # Some follow-ups come minutes later (a lint fix), superseding the build still running.
            quick = rng.random() < 0.3
            ts += int((rng.uniform(2, 8) if quick else rng.uniform(12, 200)) * MINUTE_MS)
        if ts >= end:
            break
        message = title if not position else rng.choice(("address review comments", "fix lint", "add tests", title))
        pr.commits.append(_commit(seed, svc, pr.source_branch, message, author, ts, f"pr:{created}:{position}"))
    decision = rng.random()
    closing = ts + int(rng.uniform(20, 300) * MINUTE_MS)
    if closing < end and decision < 0.88:
        pr.state, pr.closed_at = "merged", closing
    elif closing < end and decision < 0.95:
        pr.state, pr.closed_at = "closed", closing
    return pr


def build_history(seed: int, svc: ServiceSpec, start: int, end: int) -> RepoHistory:
    """The repository's main history and pull requests between `start` and `end` (epoch ms)."""
    rng = stream(seed, "history", svc.id)
    root = _commit(seed, svc, "main", f"chore: release {svc.app_version}", svc.authors[0], start - 2 * DAY_MS, "root")
    main = [root]
    pulls: list[PullRequest] = []
    day = start - start % DAY_MS
    while day < end:
        activity = _activity(day)
        for _ in range(poisson(rng, svc.prs_per_day * activity)):
            created = office_time(rng, day)
            if start <= created < end:
                pr = _pull(seed, rng, svc, created, end)
                if pr.commits:
                    pulls.append(pr)
        for _ in range(poisson(rng, svc.pushes_per_day * activity)):
            ts = office_time(rng, day)
            if start <= ts < end:
                main.append(_commit(seed, svc, "main", _message(rng, svc), rng.choice(svc.authors), ts, f"push:{ts}"))
        day += DAY_MS
    pulls.sort(key=lambda p: p.created)
    # Harness Code numbers a repository's pull requests from 1, in creation order.
    for number, pr in enumerate(pulls, start=1):
        pr.number = number
        for commit in pr.commits:
            commit.pr_number = number
        if pr.state == "merged" and pr.closed_at is not None:
            merge = _commit(seed, svc, "main", f"{pr.title} (#{number})", pr.author, pr.closed_at, f"merge:{number}")
            merge.pr_number = number
            pr.merge_commit = merge
            main.append(merge)
    history = RepoHistory(svc, main, pulls)
    history.renumber()
    return history
