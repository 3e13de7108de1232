-- Take up to n jobs (see `take` in queue_common.lua).
-- ARGV: worker_id, lock_ms, limiter_max (0: none), limiter_duration_ms, n.
return take(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
