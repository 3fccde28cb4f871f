"""What an instructor's CLI commands compute: capacity, course edits, handouts, links,
offline rendering and progress summaries. Pure; cli/ does the I/O."""
