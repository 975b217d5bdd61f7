"""Helpers shared by the tests: brokers, collectors, a publisher process."""
