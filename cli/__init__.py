"""The `journeybot` command line: argv -> service -> text or JSON."""
