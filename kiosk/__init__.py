"""hubtap-kiosk: the touchscreen at the entrance."""
