-- Periodic upkeep, run by every worker each stalled_interval (any worker may run it; the
-- work is idempotent and bounded by `limit` per step).
-- ARGV: max_stalled_count, limit, worker_ttl_ms.
-- - stalled recovery: a job whose lease expired goes back to the head of the wait list
--   (its stall count +1), or fails once it stalled more than max_stalled_count times;
-- - age-based removal (remove_on_complete / remove_on_fail {age}) that is due, so it
--   happens while no job finishes;
-- - expired deduplication windows and workers silent for worker_ttl_ms are forgotten.
-- Reply: {stalled ids (back to wait), failed ids, removed count}.
local max_stalled, limit, worker_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('HSETNX', K_META, 'v', 'q3')
local stalled, failed = {}, {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_ACTIVE, '-inf', '(' .. now_s, 'LIMIT', 0, limit)) do
  redis.call('ZREM', K_ACTIVE, id)
  local key = jkey(id)
  if redis.call('EXISTS', key) == 1 then
    local sc = redis.call('HINCRBY', key, 'sc', 1)
    -- The stalled delivery ended: its late finish or renewal is refused even if the
    -- server's clock stepped back below its lease's end.
    redis.call('HSET', key, 'lx', '0')
    if sc > max_stalled then
      local reason = 'job stalled more than allowable limit'
      redis.call('HSET', key, 'fr', reason, 'fon', now_s)
      redis.call('ZADD', K_FAILED, now_s, id)
      event('failed', 'id', id, 'fr', reason)
      local j = redis.call('HMGET', key, 'opts', 'ddid')
      release_dedup(id, j[2])
      apply_removal(id, decode_opts(j[1])['remove_on_fail'], K_FAILED)
      failed[#failed + 1] = id
    else
      local o = decode_opts(redis.call('HGET', key, 'opts'))
      if o['priority'] and o['priority'] > 0 then
        push_ready(id, o['priority'], false)
      else
        -- It was at the front already: it goes first again.
        push_ready(id, 0, true)
      end
      event('stalled', 'id', id)
      stalled[#stalled + 1] = id
    end
  end
end
local removed = collect_garbage(limit)
for _, ddid in ipairs(redis.call('ZRANGEBYSCORE', K_DEDUPX, '-inf', now_s, 'LIMIT', 0, limit)) do
  redis.call('ZREM', K_DEDUPX, ddid)
  redis.call('HDEL', K_DEDUP, ddid)
end
for _, wid in ipairs(redis.call('ZRANGEBYSCORE', K_WORKERS, '-inf', fmt(now - worker_ttl), 'LIMIT', 0, limit)) do
  redis.call('ZREM', K_WORKERS, wid)
  redis.call('HDEL', K_WINFO, wid)
end
return {stalled, failed, removed}
