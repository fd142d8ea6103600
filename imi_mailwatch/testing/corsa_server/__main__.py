"""``python -m imi_mailwatch.testing.corsa_server``: run the test server in the foreground."""

from imi_mailwatch.testing.corsa_server import main

raise SystemExit(main())
