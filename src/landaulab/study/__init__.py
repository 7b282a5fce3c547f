"""Studies: whole pipelines (sweep → store → analysis → report) for one phenomenon."""
