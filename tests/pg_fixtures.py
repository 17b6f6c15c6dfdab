"""pytest wiring for tests/pg.py: `pg_cluster` (one server per session, or per xdist worker) and
`pg_url` (a fresh, empty database per test, dropped after it).

Registered in tests/conftest.py with `pytest_plugins = ["tests.pg_fixtures"]`.

No PostgreSQL (no binaries, and BREAKROOM_TEST_DATABASE_URL unset) skips the tests that need one,
and the run ends with one line saying why. Under CI=true that is a failure instead: a CI run
that silently skipped the PostgreSQL suite would pass without testing it. A PostgreSQL that is
there but broken (the URL does not answer, initdb fails) always fails, with the reason.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping

import pytest

from tests.pg import PostgresCluster, PostgresError, Unavailable, choose, in_ci

SKIPPED = "PostgreSQL tests skipped: "


def cluster_or_skip(
    env: Mapping[str, str] = os.environ, search: str | None = None
) -> PostgresCluster:
    """The session's cluster per `choose`; else pytest.skip with the reason, or pytest.fail
    under CI. `env` and `search` are arguments so both rules can be tested."""
    plan = choose(env, search)
    if isinstance(plan, Unavailable):
        if in_ci(env):
            pytest.fail(
                f"PostgreSQL tests may not be skipped in CI (CI={env.get('CI')}): {plan.reason}."
                " Install PostgreSQL's server binaries or set BREAKROOM_TEST_DATABASE_URL.",
                pytrace=False,
            )
        pytest.skip(SKIPPED + plan.reason)
    try:
        return PostgresCluster.from_plan(plan)
    except PostgresError as exc:
        pytest.fail(f"PostgreSQL for the tests: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """pytest caches a session fixture's skip or failure too: the search and any initdb run
    once per session, however many tests ask."""
    cluster = cluster_or_skip()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def pg_url(pg_cluster: PostgresCluster, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A new empty database's URL; its name starts with the test's, for pg_stat_activity."""
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:30] or "t"
    async with pg_cluster.fresh(stem) as url:
        yield url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The one line saying why, counted from the skip reports themselves, so it is right under
    pytest-xdist too (there the skips happen in the workers, the summary in the controller)."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            message = str(longrepr[2]).removeprefix("Skipped: ")
            if message.startswith(SKIPPED):
                reasons[message] += 1
    for message, count in reasons.items():
        terminalreporter.write_line(f"{message} ({count} test{'' if count == 1 else 's'})")
