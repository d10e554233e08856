"""The live station: drain the acquisition ring, estimate every frame, keep history, fan out."""
