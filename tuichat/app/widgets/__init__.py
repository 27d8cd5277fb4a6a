"""Widgets: they receive data as attributes and report through messages.

Nothing here imports a screen, the app, a provider or the store.
"""
