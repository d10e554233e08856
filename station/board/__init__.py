"""Board sources: the HX711 driver, its GPIO-level emulator, the simulated board, replay."""
