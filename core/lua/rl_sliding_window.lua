-- Sliding window, the weighted two-window counter: the count of the previous aligned
-- window, weighted by how much of it the sliding window still covers, plus the count of
-- the current one. State: "window:current:previous".
--
-- Error bound (see docs/ratelimit.md): no aligned window ever admits more than `limit`;
-- an arbitrary interval of one window's length admits at most limit + f * previous
-- (< 2 * limit), f being how far into the current window the interval ends. The estimate
-- is exact when the previous window's requests were spread evenly.

local function load(key, limit, w, burst)
  local window = math.floor(now / w)
  local starts = window * w
  local elapsed = (now - starts) / w
  local current, previous = 0, 0
  local stored = redis.call('GET', key)
  if stored then
    local at, cur, prev = string.match(stored, '^(%d+):(%d+):(%d+)$')
    at = tonumber(at)
    if at >= window then
      -- Same window (or a caller clock that went backwards: keep the counts).
      current, previous = tonumber(cur), tonumber(prev)
    elseif at == window - 1 then
      previous = tonumber(cur)
    end
  end
  return {
    key = key, limit = limit, window = w, burst = burst, number = window, starts = starts,
    elapsed = elapsed, current = current, previous = previous, ok = previous * (1 - elapsed) + current + cost <= limit + 1e-9,
  }
end

local function store(s)
  s.current = s.current + cost
  local value = int(s.number) .. ':' .. s.current .. ':' .. s.previous
  -- The counts matter until the end of the next window, when they stop weighing.
  redis.call('SET', s.key, value, 'PX', math.max(1, ms(s.starts + 2 * s.window - now)))
end

local function status(s)
  local w, limit = s.window, s.limit
  local estimate = s.previous * (1 - s.elapsed) + s.current
  local remaining = math.max(0, math.floor(limit - estimate + 1e-9))
  local reset = 0
  if s.current > 0 then
    reset = s.starts + 2 * w - now
  elseif s.previous > 0 then
    reset = s.starts + w - now
  end
  local retry = 0
  if estimate + cost > limit + 1e-9 then
    if s.current + cost <= limit then
      -- Later in this window the previous window weighs little enough.
      retry = s.starts + (1 - (limit - s.current - cost) / s.previous) * w - now
    else
      -- In the next window, once this window's count weighs little enough.
      local share = math.max(0, 1 - (limit - cost) / s.current)
      retry = s.starts + w + share * w - now
    end
  end
  return remaining, reset, retry
end

return decide(load, store, status)
