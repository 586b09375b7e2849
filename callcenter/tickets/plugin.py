"""Wiring of the tickets feature into the app (see callcenter/app.py for the hooks)."""
