"""Render engines: one module per output format, all reading the same assembled Markdown."""
