"""Screens: the chat screen, which orchestrates, and its small modal dialogs."""
