"""Sub-commands of `balance-station`; see station.cli for the contract."""
