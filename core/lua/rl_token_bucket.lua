-- Token bucket. State: "tokens:last" — the tokens left (three decimals, rounded down so
-- rounding never grants a request) and the µs time they were counted. The bucket holds
-- limit + burst tokens and refills limit tokens per window, continuously.

local function load(key, limit, window, burst)
  local capacity, rate = limit + burst, limit / window
  local tokens, last = capacity, now
  local stored = redis.call('GET', key)
  if stored then
    local t, l = string.match(stored, '^([%d.]+):(%d+)$')
    tokens, last = tonumber(t), tonumber(l)
    -- A caller clock that went backwards refills nothing (and is not stored).
    if now > last then
      tokens = math.min(capacity, tokens + (now - last) * rate)
      last = now
    end
  end
  return {
    key = key, limit = limit, burst = burst, capacity = capacity, rate = rate, tokens = tokens,
    last = last, ok = tokens + 1e-9 >= cost,
  }
end

local function store(s)
  -- A counted denied request empties the bucket, never below zero.
  s.tokens = math.floor(math.max(0, s.tokens - cost) * 1000) / 1000
  local full_in = (s.capacity - s.tokens) / s.rate + (s.last - now)
  redis.call('SET', s.key, string.format('%.3f:%.0f', s.tokens, s.last), 'PX', math.max(1, ms(full_in)))
end

local function status(s)
  local behind = s.last - now
  local remaining = math.floor(s.tokens + 1e-9)
  local reset = (s.capacity - s.tokens) / s.rate + behind
  local retry = (cost - s.tokens) / s.rate + behind
  return remaining, reset, retry
end

return decide(load, store, status)
