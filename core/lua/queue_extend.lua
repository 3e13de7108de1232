-- A worker's heartbeat and the renewal of all of its leases, in one call.
-- ARGV: worker_id, info JSON, lock_ms, then pairs id, token.
-- Reply: {lost ids, cancelled ids}. Lost: the token no longer holds a live lease (the job
-- stalled and may be delivered again, or its delivery ended): the worker must drop it.
-- Cancelled: `cancel(id)` was asked; the lease is renewed all the same, the worker
-- finishes the job as cancelled.
local wid, info, lock_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZADD', K_WORKERS, now_s, wid)
redis.call('HSET', K_WINFO, wid, info)
local lost, cancelled = {}, {}
local lx = fmt(now + lock_ms)
-- The renewed leases' new end enters `active` in one ZADD per 500 (unpack() has a stack
-- limit).
local renewed = {}
local late = 0
for i = 4, #ARGV - 1, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = jkey(id)
  local j = redis.call('HMGET', key, 'tok', 'cxl', 'lx')
  -- As a finish: the current token and a live lease (`lx` is 0 once the delivery ended,
  -- past once the lease ran out).
  if j[1] == token and j[3] and tonumber(j[3]) >= now then
    redis.call('HSET', key, 'lx', lx)
    renewed[#renewed + 1] = lx
    renewed[#renewed + 1] = id
    if #renewed == 1000 then
      redis.call('ZADD', K_ACTIVE, unpack(renewed))
      renewed = {}
    end
    if j[2] == '1' then
      cancelled[#cancelled + 1] = id
    end
  else
    lost[#lost + 1] = id
    late = late + 1
  end
end
if #renewed > 0 then
  redis.call('ZADD', K_ACTIVE, unpack(renewed))
end
if late > 0 then
  redis.call('HINCRBY', K_META, 'late', late)
end
return {lost, cancelled}
