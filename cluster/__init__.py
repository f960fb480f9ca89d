"""Ray execution: sharding, the sharded executor, storage, progress (issue 4)."""
