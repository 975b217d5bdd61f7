"""hubtap-door: the door controller on each door's Raspberry Pi."""
