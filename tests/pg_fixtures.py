# TEMPORARY stand-in (not committed): replaced by the helper's module.
from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

BASE = "postgresql://postgres@/{db}?host=/tmp/pgdev&port=55432"
import os

_names = itertools.count()


class Cluster:
    def __init__(self) -> None:
        self.templates: set[str] = set()
        self.tag = os.getpid()

    def url(self, name: str) -> str:
        return BASE.format(db=name)

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.url("postgres"))

    async def create_database(self, name: str, template: str | None = None) -> str:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(
                f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            )
        finally:
            await conn.close()
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def template(self, name: str, build: Callable[[str], Awaitable[None]]) -> str:
        name = f"{name}_{self.tag}"
        if name not in self.templates:
            await self.create_database(name)
            await build(self.url(name))
            self.templates.add(name)
        return name


@pytest.fixture(scope="session")
def pg_cluster() -> Cluster:
    return Cluster()


@pytest.fixture
async def pg_url(pg_cluster: Cluster) -> AsyncIterator[str]:
    name = f"t{next(_names)}"
    yield await pg_cluster.create_database(name)
    await pg_cluster.drop_database(name)
