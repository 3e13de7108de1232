-- GCRA (generic cell rate algorithm). State: one integer, the theoretical arrival time
-- (TAT, µs) at which the rule's capacity is whole again. A request of `cost` is allowed
-- when it fits: max(TAT, now) + cost * interval - now <= capacity * interval.

-- Rounding TAT to whole µs may be off by half a µs: allow that much slack.
local SLACK = 1
local interval = window / limit
local full = (limit + burst) * interval
local stored = redis.call('GET', key)
local tat = stored and tonumber(stored) or now
if tat < now then tat = now end
ok = tat + cost * interval - now <= full + SLACK
if write and (ok or count_denied) then
  -- A counted denied request empties the bucket but never drives it below empty, so a
  -- client retrying forever is blocked for one emission interval after it stops.
  tat = math.min(tat + cost * interval, now + full)
  -- The nearest whole µs, ties to even: what string.format('%.0f') gives, for less work.
  local whole = math.floor(tat)
  local part = tat - whole
  if part > 0.5 or (part == 0.5 and whole % 2 == 1) then whole = whole + 1 end
  redis.call('SET', key, string.format('%d', whole), 'PX', math.max(1, ms(tat - now)))
end
local used = tat - now
remaining = math.floor((full - used + SLACK) / interval)
if remaining < 0 then remaining = 0 end
reset, retry = used, used + cost * interval - full
