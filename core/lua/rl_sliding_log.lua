-- Sliding log: exact. A sorted set of the admitted requests scored by their µs time; a
-- request is admitted when the requests of the last window plus its cost fit the limit.
-- Unlike the pipelined version it replaces, a denied request is not recorded (unless
-- count_denied), so retrying does not prolong a block, and every write resets the
-- expiry, so the key always expires one window after its newest entry.

local from = now - window
-- Entries scored after `from` are in the window.
local inside = string.format('(%d', from)
local count = redis.call('ZCOUNT', key, inside, '+inf')
ok = count + cost <= limit
if write and cost < 0 then
  -- A reward (a negative cost) takes back the newest entries.
  redis.call('ZREMRANGEBYRANK', key, cost, -1)
  count = redis.call('ZCOUNT', key, inside, '+inf')
elseif write and (ok or count_denied) then
  -- A member is the µs time followed by n, the entry's rank among the entries of that
  -- same µs (several requests can share one, above all with a caller clock in ms): unique,
  -- as every time has the same 16 digits, and all digits, so a small set stores it as an
  -- integer.
  local stamp = string.format('%d', now)
  local seen = redis.call('ZCOUNT', key, stamp, stamp)
  -- In batches: unpack() of a large cost would overflow Lua's stack.
  local i, added = 0, 0
  while i < cost do
    local args = {}
    for j = i + 1, math.min(cost, i + 500) do
      args[#args + 1] = stamp
      args[#args + 1] = stamp .. (seen + j)
    end
    added = added + redis.call('ZADD', key, unpack(args))
    i = i + 500
  end
  -- Trimmed after adding, not before: under maxmemory with noeviction Redis refuses a
  -- script's first memory-growing write (ZADD) only while the script has written
  -- nothing, and a trim that removed something would let every ZADD through.
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', from))
  if count_denied then
    -- Only the newest `limit` entries can ever decide a request: keep the set bounded.
    redis.call('ZREMRANGEBYRANK', key, 0, -(limit + 1))
    count = redis.call('ZCOUNT', key, inside, '+inf')
  else
    -- Every new entry is in the window, and only entries outside it were removed.
    count = count + added
  end
  redis.call('PEXPIRE', key, math.max(1, ms(window)))
end
remaining = math.max(0, limit - count)
reset, retry = 0, 0
if count > 0 then
  local newest = redis.call('ZREVRANGEBYSCORE', key, '+inf', inside, 'WITHSCORES', 'LIMIT', 0, 1)
  reset = tonumber(newest[2]) + window - now
end
local need = count + cost - limit
if need > 0 then
  -- Wait until the need-th oldest entry of the window leaves it.
  local oldest = redis.call('ZRANGEBYSCORE', key, inside, '+inf', 'WITHSCORES', 'LIMIT', need - 1, 1)
  retry = tonumber(oldest[2]) + window - now
end
