"""The web app's views: thin, they read a form, call a module, render."""
