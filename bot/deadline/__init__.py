"""The deadline calculator: schemes, the certification rules (spec v2) and regional rule data."""
