"""Process wiring shared by worker.py, starter.py and the dev stack: settings, client, logging."""
