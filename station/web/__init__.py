"""The station's web app (Flask), served by waitress."""
