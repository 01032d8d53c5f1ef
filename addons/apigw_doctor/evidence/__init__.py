"""Evidence for tickets: redaction, redacted HAR, AWS log hints and the evidence bundle (issue 4)."""
