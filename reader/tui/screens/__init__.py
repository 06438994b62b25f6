"""The app's screens: library, article, tags, help and the modals."""
