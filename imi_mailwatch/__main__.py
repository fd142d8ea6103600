"""``python -m imi_mailwatch``."""

from imi_mailwatch.cli import main

raise SystemExit(main())
