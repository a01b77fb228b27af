"""`python -m bot` is the same as the `backbot` command."""

from bot.cli import main

raise SystemExit(main())
