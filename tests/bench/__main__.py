"""`python -m tests.bench` (what `make bench` runs): prints the benchmark table."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from pathlib import Path

from tests.bench import profile
from tests.bench.config import SMOKE, BenchConfig
from tests.bench.report import render, targets
from tests.bench.run import run_bench
from tests.bench.world import WorldSize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="the test suite's tiny run")
    parser.add_argument("--burst", type=int, help="members voting at once (default 500)")
    parser.add_argument(
        "--rates", help="sustained rates, comma-separated votes/s (default 200,500,800)"
    )
    parser.add_argument("--seconds", type=float, help="length of each sustained phase (10)")
    parser.add_argument("--no-baseline", action="store_true", help="Breakroom only")
    parser.add_argument(
        "--no-postgresql",
        action="store_true",
        help="skip the PostgreSQL phase (two shard processes on a throwaway PostgreSQL)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a target is not met (not for CI)"
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample each bot's phases with py-spy into DIR and print the costliest lines",
    )
    args = parser.parse_args(argv)
    config = SMOKE if args.smoke else BenchConfig(size=WorldSize())
    if args.burst is not None:
        config = replace(config, burst=args.burst)
    if args.rates:
        config = replace(config, rates=tuple(int(r) for r in args.rates.split(",")))
    if args.seconds is not None:
        config = replace(config, seconds=args.seconds)
    if args.no_baseline:
        config = replace(config, baseline=False)
    if args.no_postgresql:
        config = replace(config, postgresql=False)
    if args.profile:
        config = replace(config, profile=args.profile)
    report = asyncio.run(run_bench(config))
    print(render(report), flush=True)
    if args.profile:
        for raw in sorted(Path(args.profile).glob("*.raw")):
            print("\n" + "\n".join(profile.render(raw.stem, profile.read(raw))), flush=True)
    if args.strict and any(t.met is False for t in targets(report)):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
