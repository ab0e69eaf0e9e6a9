"""Per-request and per-account features that the detectors score."""
