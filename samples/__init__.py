"""Sample data the tests and the benchmarks share: return.requested events built relative to now
(`samples.events`) and the fixed payload keys histories are recorded with (`samples.keys`)."""
