"""`python -m tests.bench` (what `make bench` runs): prints the benchmark table."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from tests.bench import profile
from tests.bench.bigdata import run_bigdata
from tests.bench.bigdata_config import BigdataConfig
from tests.bench.bigdata_report import bigdata_targets, render_bigdata
from tests.bench.burst import run_burst
from tests.bench.burst_report import burst_section, burst_targets
from tests.bench.config import SMOKE, BenchConfig
from tests.bench.report import render, table
from tests.bench.run import run_bench
from tests.bench.targets import Target, targets
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
        "--monday",
        type=int,
        help="teams (in as many servers) due at once in the Monday burst (default 500; 0: skip it)",
    )
    parser.add_argument(
        "--burst-only", action="store_true", help="run only the Monday burst (tests/bench/burst.py)"
    )
    parser.add_argument(
        "--bigdata-only",
        action="store_true",
        help="only the big-data section (Breakroom on a database of 2,500 servers' data)",
    )
    parser.add_argument("--no-bigdata", action="store_true", help="skip the big-data section")
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
    if args.monday is not None:
        config = replace(config, monday=args.monday)
    if args.burst_only:
        return monday_only(config, args.strict)
    if args.bigdata_only:
        return bigdata_only(config, args.strict)
    if args.no_bigdata:
        config = replace(config, bigdata=None)
    report = asyncio.run(run_bench(config))
    print(render(report), flush=True)
    if args.profile:
        for raw in sorted(Path(args.profile).glob("*.raw")):
            print("\n" + "\n".join(profile.render(raw.stem, profile.read(raw))), flush=True)
    if args.strict and any(t.met is False for t in targets(report)):
        return 1
    return 0


def monday_only(config: BenchConfig, strict: bool) -> int:
    """`--burst-only`: the Monday burst alone, its figures and its targets."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        result = asyncio.run(run_burst(replace(config, monday=config.monday or 500), Path(folder)))
    found = [Target(*line) for line in burst_targets(result)]
    rows = [["target", "measured", "verdict"], *([t.text, t.measured, t.verdict] for t in found)]
    print("\n".join([*burst_section(result), "targets:", table(rows)]), flush=True)
    return 1 if strict and any(t.met is False for t in found) else 0


def bigdata_only(config: BenchConfig, strict: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-bigdata-") as folder:
        result = asyncio.run(run_bigdata(config.bigdata or BigdataConfig(), Path(folder)))
    print(render_bigdata(result), flush=True)
    if strict and any(t.met is False for t in bigdata_targets(result)):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
