"""Reports drawn from a detection run: one self-contained HTML page per scan."""
