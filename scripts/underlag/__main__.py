"""`python -m underlag` is the `underlag` command."""
from underlag.commands.cli import main

raise SystemExit(main())
