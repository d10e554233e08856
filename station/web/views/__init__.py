"""Web views. Every module here exposes `register(app: Flask) -> None`; station.web.app lists
them in `VIEWS` (in order) and create_app registers them after installing access control."""
