"""`make bench`: Breakroom under load, beside a minimal discord.py bot, through the Discord double.

Each bot runs in its own process (so its CPU time and RSS are its own); the double and the load
generator run in the benchmark process. `python -m tests.bench --help` lists the knobs.
"""
