"""Package verification: intake, extraction, classification, checks, report, fix-and-export."""
