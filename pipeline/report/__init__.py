"""Pure writers: RunReport → text. Files are written by pipeline.evidence only."""
