"""Commands on top of both layers: cli, build, publish, preview, lint, review, new, bench."""
