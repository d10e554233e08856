"""Web views. Every module here exposes `register(app: Flask) -> None` and is loaded by
station.web.app.create_app in name order, so adding a page never edits the app factory."""
