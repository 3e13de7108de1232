-- Fixed window: windows aligned on multiples of the window length since the Unix epoch.
-- State: "window:count" — the window number travels with its count, so a count is never
-- read in the wrong window, whatever the key's expiry or the caller's clock says.

local function load(rule)
  local s = {}
  s.window = math.floor(now / rule.window)
  s.ends = (s.window + 1) * rule.window
  s.count = 0
  local stored = redis.call('GET', rule.key)
  if stored then
    local window, count = string.match(stored, '^(%d+):(%d+)$')
    if tonumber(window) == s.window then s.count = tonumber(count) end
  end
  s.ok = s.count + cost <= rule.limit
  return s
end

local function store(s)
  s.count = s.count + cost
  redis.call('SET', s.rule.key, int(s.window) .. ':' .. s.count, 'PX', math.max(1, ms(s.ends - now)))
end

local function status(s)
  local left = s.ends - now
  local remaining = math.max(0, s.rule.limit - s.count)
  local reset = s.count > 0 and left or 0
  local retry = s.count + cost > s.rule.limit and left or 0
  return remaining, reset, retry
end

return decide(load, store, status)
