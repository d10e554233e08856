import sys

from station.commands.cli import main

sys.exit(main())
