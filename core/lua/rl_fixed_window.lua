-- Fixed window: windows aligned on multiples of the window length since the Unix epoch.
-- State: one integer, count * 1024 + (window number mod 1024). The window number travels
-- with its count, so a count is never read in the wrong window, whatever the key's expiry
-- or a caller's clock says (the key itself expires when its window ends); one integer
-- keeps the key as small as Redis can store it.

local TAG = 1024

local function load(key, limit, w, burst)
  local window = math.floor(now / w)
  local tag, count = window % TAG, 0
  local stored = tonumber(redis.call('GET', key) or '')
  if stored and stored % TAG == tag then
    count = math.floor(stored / TAG)
  end
  return {
    key = key, limit = limit, burst = burst, tag = tag, ends = (window + 1) * w, count = count,
    ok = count + cost <= limit,
  }
end

local function store(s)
  s.count = s.count + cost
  redis.call('SET', s.key, int(s.count * TAG + s.tag), 'PX', math.max(1, ms(s.ends - now)))
end

local function status(s)
  local left = s.ends - now
  local remaining = math.max(0, s.limit - s.count)
  local reset = s.count > 0 and left or 0
  local retry = s.count + cost > s.limit and left or 0
  return remaining, reset, retry
end

return decide(load, store, status)
