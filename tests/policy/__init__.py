"""Policy engine tests: one module per merchant, plus registry, overrides, refunds, properties."""
