"""Balance Station: load-cell balance board firmware and web app."""

__version__ = "0.1.0"
