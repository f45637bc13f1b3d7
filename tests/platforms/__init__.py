"""Per-platform tests over the simulator, and entity snapshots per UIID."""
