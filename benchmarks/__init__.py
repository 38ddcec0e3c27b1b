"""Speed benchmarks against the naive route (``python -m benchmarks``); not run by the tests."""
