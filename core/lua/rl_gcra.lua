-- GCRA (generic cell rate algorithm). State: one integer, the theoretical arrival time
-- (TAT, µs) at which the rule's capacity is whole again. A request of `cost` is allowed
-- when it fits: max(TAT, now) + cost * interval - now <= capacity * interval.

-- Rounding TAT to whole µs may be off by half a µs: allow that much slack.
local SLACK = 1

local function load(key, limit, window, burst)
  local capacity, interval = limit + burst, window / limit
  local stored = redis.call('GET', key)
  local tat = stored and tonumber(stored) or now
  if tat < now then tat = now end
  local ok = tat + cost * interval - now <= capacity * interval + SLACK
  return {key = key, limit = limit, burst = burst, capacity = capacity, interval = interval, tat = tat, ok = ok}
end

local function store(s)
  -- A counted denied request empties the bucket but never drives it below empty, so a
  -- client retrying forever is blocked for one emission interval after it stops.
  local tat = math.min(s.tat + cost * s.interval, now + s.capacity * s.interval)
  s.tat = tat
  redis.call('SET', s.key, int(tat), 'PX', math.max(1, ms(tat - now)))
end

local function status(s)
  local used = s.tat - now
  local remaining = math.floor((s.capacity * s.interval - used + SLACK) / s.interval)
  if remaining < 0 then remaining = 0 end
  return remaining, used, used + cost * s.interval - s.capacity * s.interval
end

return decide(load, store, status)
