"""The supervisor board (/board) and the agent desktop (/agent): their pages (static/), snapshots,
views and live hub; they read the ACD's view and, through the Protocols of `reads`, the records
of the other features."""
