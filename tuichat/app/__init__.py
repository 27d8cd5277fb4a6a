"""The full-screen Textual app: the only part of tuichat that imports Textual.

Import :mod:`tuichat.app.app` to get :class:`~tuichat.app.app.TuichatApp`; this package
itself stays empty so that importing it costs nothing.
"""
