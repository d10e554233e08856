"""Running as a Linux service: systemd readiness and watchdog, and whether the clock is set."""
