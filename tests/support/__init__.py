"""Test helpers shared by the unit and TUI tests."""
