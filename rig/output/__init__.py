"""What rig writes for people and CI from results: summaries, HTML, JUnit, tables (pure)."""
