"""Discord glue: one cog per feature. Modules starting with `_` are shared helpers, not cogs."""
