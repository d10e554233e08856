"""Sub-commands of `balance-station`; see station.commands.cli for the contract."""
