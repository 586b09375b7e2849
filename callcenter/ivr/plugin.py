"""Wiring of the ivr feature into the app (see callcenter/app.py for the hooks)."""
