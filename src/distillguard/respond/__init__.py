"""Response: policies, the online decision service and gateway integrations (docs/respond.md)."""
