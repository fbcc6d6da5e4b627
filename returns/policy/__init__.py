"""Merchant return policies as data, and the pure engine that turns them into decisions."""
