-- Sliding window, the weighted two-window counter: the count of the previous aligned
-- window, weighted by how much of it the sliding window still covers, plus the count of
-- the current one. State: "window:current:previous".
--
-- Error bound (see docs/ratelimit.md): no aligned window ever admits more than `limit`;
-- an arbitrary interval of one window's length admits at most limit + f * previous
-- (< 2 * limit), f being how far into the current window the interval ends. The estimate
-- is exact when the previous window's requests were spread evenly.

local number = math.floor(now / window)
local starts = number * window
local elapsed = (now - starts) / window
local current, previous = 0, 0
local stored = redis.call('GET', key)
if stored then
  local at, cur, prev = string.match(stored, '^(%d+):(%d+):(%d+)$')
  at = tonumber(at)
  if at >= number then
    -- Same window (or a caller clock that went backwards: keep the counts).
    current, previous = tonumber(cur), tonumber(prev)
  elseif at == number - 1 then
    previous = tonumber(cur)
  end
end
ok = previous * (1 - elapsed) + current + cost <= limit + 1e-9
if write and (ok or count_denied) then
  current = current + cost
  -- The counts matter until the end of the next window, when they stop weighing.
  redis.call('SET', key, string.format('%d:%d:%d', number, current, previous),
    'PX', math.max(1, ms(starts + 2 * window - now)))
end
local estimate = previous * (1 - elapsed) + current
remaining = math.max(0, math.floor(limit - estimate + 1e-9))
reset = 0
if current > 0 then
  reset = starts + 2 * window - now
elseif previous > 0 then
  reset = starts + window - now
end
retry = 0
if estimate + cost > limit + 1e-9 then
  if current + cost <= limit then
    -- Later in this window the previous window weighs little enough.
    retry = starts + (1 - (limit - current - cost) / previous) * window - now
  else
    -- In the next window, once this window's count weighs little enough.
    local share = math.max(0, 1 - (limit - cost) / current)
    retry = starts + window + share * window - now
  end
end
