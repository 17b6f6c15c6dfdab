"""Breakroom: a Discord bot for office support teams."""
