"""Benchmarks (`mtrl bench ...`): speed as ratios against a baseline measured in the same run."""
