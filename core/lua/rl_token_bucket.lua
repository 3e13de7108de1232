-- Token bucket. State: "tokens:last" — the tokens left (three decimals, rounded down so
-- rounding never grants a request) and the µs time they were counted. The bucket holds
-- limit + burst tokens and refills limit tokens per window, continuously.

local function load(rule)
  local s = {}
  s.capacity = rule.limit + rule.burst
  s.rate = rule.limit / rule.window
  s.tokens, s.last = s.capacity, now
  local stored = redis.call('GET', rule.key)
  if stored then
    local tokens, last = string.match(stored, '^([%d.]+):(%d+)$')
    s.tokens, s.last = tonumber(tokens), tonumber(last)
    -- A caller clock that went backwards refills nothing (and is not stored).
    if now > s.last then
      s.tokens = math.min(s.capacity, s.tokens + (now - s.last) * s.rate)
      s.last = now
    end
  end
  s.ok = s.tokens + 1e-9 >= cost
  return s
end

local function store(s)
  -- A counted denied request empties the bucket, never below zero.
  s.tokens = math.floor(math.max(0, s.tokens - cost) * 1000) / 1000
  local full_in = (s.capacity - s.tokens) / s.rate + (s.last - now)
  redis.call('SET', s.rule.key, string.format('%.3f:%s', s.tokens, int(s.last)), 'PX', math.max(1, ms(full_in)))
end

local function status(s)
  local behind = s.last - now
  local remaining = math.floor(s.tokens + 1e-9)
  local reset = (s.capacity - s.tokens) / s.rate + behind
  local retry = (cost - s.tokens) / s.rate + behind
  return remaining, reset, retry
end

return decide(load, store, status)
