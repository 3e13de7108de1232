-- Add jobs atomically, any number per call (add and add_bulk are one round trip each).
-- ARGV[1] n, then 9 values per job: id ('' for an automatic one), name, data, opts JSON,
-- delay_ms, priority, lifo 0|1, dedup_id ('' for none), dedup_ttl_ms (-1: until the job
-- completes or fails).
-- Reply: per job {id, ts} when added, {id, fields} when the id or the deduplication id
-- already held a job (that job is returned, nothing is written).
local n = tonumber(ARGV[1])
local out = {}
-- Automatic ids are reserved for the whole call at once: one HINCRBY, not one per job.
-- A job with a deduplication id may turn out a duplicate and need none: it takes its id
-- when it is added.
local auto = 0
for i = 0, n - 1 do
  if ARGV[2 + i * 9] == '' and ARGV[2 + i * 9 + 7] == '' then
    auto = auto + 1
  end
end
local next_id = 0
-- FIFO jobs enter the wait list in one RPUSH per 500 (unpack() has a stack limit), as
-- push_ready would one by one: the list was empty before them, one idle worker wakes.
local tail = {}
local function flush_tail()
  if #tail > 0 then
    if redis.call('RPUSH', K_WAIT, unpack(tail)) == #tail then
      redis.call('ZADD', K_MARKER, 0, '0')
    end
    tail = {}
  end
end
if auto > 0 then
  next_id = redis.call('HINCRBY', K_META, 'id', auto) - auto
else
  -- The meta hash marks a queue in use (check() looks for it), even one with custom ids.
  redis.call('HSETNX', K_META, 'v', 'q3')
end
for i = 0, n - 1 do
  local a = 2 + i * 9
  local id, name, data, opts = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local delay, priority, lifo = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), ARGV[a + 6] == '1'
  local ddid, ddttl = ARGV[a + 7], tonumber(ARGV[a + 8])
  local existing
  if ddid ~= '' then
    local until_ms = redis.call('ZSCORE', K_DEDUPX, ddid)
    if until_ms and (until_ms == 'inf' or tonumber(until_ms) > now) then
      local holder = redis.call('HGET', K_DEDUP, ddid)
      if holder then
        local fields = redis.call('HGETALL', jkey(holder))
        if #fields > 0 then
          existing = {holder, fields}
          event('deduplicated', 'id', holder, 'dedup', ddid)
        end
      end
    end
  end
  if not existing then
    if id == '' and ddid ~= '' then
      id = fmt(redis.call('HINCRBY', K_META, 'id', 1))
    elseif id == '' then
      next_id = next_id + 1
      id = fmt(next_id)
    else
      local fields = redis.call('HGETALL', jkey(id))
      if #fields > 0 then
        existing = {id, fields}
      end
    end
  end
  if existing then
    out[i + 1] = existing
  else
    local key = jkey(id)
    if ddid ~= '' then
      redis.call('HSET', key, 'name', name, 'data', data, 'opts', opts, 'ts', now_s, 'ddid', ddid)
      redis.call('HSET', K_DEDUP, ddid, id)
      if ddttl < 0 then
        redis.call('ZADD', K_DEDUPX, 'inf', ddid)
      else
        redis.call('ZADD', K_DEDUPX, fmt(now + ddttl), ddid)
      end
    else
      redis.call('HSET', key, 'name', name, 'data', data, 'opts', opts, 'ts', now_s)
    end
    if delay > 0 then
      push_delayed(id, now + delay)
      event('delayed', 'id', id, 'at', fmt(now + delay))
    elseif priority > 0 or lifo then
      -- A lifo job goes to the head after the FIFO ones before it.
      flush_tail()
      push_ready(id, priority, lifo)
      event('waiting', 'id', id)
    else
      tail[#tail + 1] = id
      if #tail == 500 then
        flush_tail()
      end
      event('waiting', 'id', id)
    end
    out[i + 1] = {id, now}
  end
end
flush_tail()
return out
