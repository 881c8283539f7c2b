"""Pure domain: jobs, the lifecycle state machine, board columns, identifiers. No I/O, no Qt."""
