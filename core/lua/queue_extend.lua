-- A worker's heartbeat and the renewal of all of its leases, in one call.
-- ARGV: worker_id, info JSON, lock_ms, then pairs id, token.
-- Reply: {lost ids, cancelled ids}. Lost: the token no longer holds a live lease (the job
-- stalled and may be delivered again): the worker must drop it. Cancelled: `cancel(id)`
-- was asked; the lease is renewed all the same, the worker finishes the job as cancelled.
local wid, info, lock_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZADD', K_WORKERS, now_s, wid)
redis.call('HSET', K_WINFO, wid, info)
local lost, cancelled = {}, {}
local lx = fmt(now + lock_ms)
for i = 4, #ARGV - 1, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = jkey(id)
  local j = redis.call('HMGET', key, 'tok', 'cxl', 'lx')
  if j[1] == token and j[3] and tonumber(j[3]) >= now and redis.call('ZSCORE', K_ACTIVE, id) then
    redis.call('ZADD', K_ACTIVE, lx, id)
    redis.call('HSET', key, 'lx', lx)
    if j[2] == '1' then
      cancelled[#cancelled + 1] = id
    end
  else
    lost[#lost + 1] = id
    redis.call('HINCRBY', K_META, 'late', 1)
  end
end
return {lost, cancelled}
