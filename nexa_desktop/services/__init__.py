"""Use cases shared by the UI and the CLI: board commands, imports, demo data. No Qt."""
