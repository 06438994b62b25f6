"""Small focused widgets: the article view with its passage cursor and translation pane."""
