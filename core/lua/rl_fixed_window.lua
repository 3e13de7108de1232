-- Fixed window: windows aligned on multiples of the window length since the Unix epoch.
-- State: one integer, count * 1024 + (window number mod 1024). The window number travels
-- with its count, so a count is never read in the wrong window, whatever the key's expiry
-- or a caller's clock says (the key itself expires when its window ends); one integer
-- keeps the key as small as Redis can store it.

local TAG = 1024
local number = math.floor(now / window)
local tag, count = number % TAG, 0
local stored = tonumber(redis.call('GET', key) or '')
local same = stored and stored % TAG == tag
if same then
  count = math.floor(stored / TAG)
end
local left = (number + 1) * window - now
ok = count + cost <= limit
if write and (ok or count_denied) then
  local add = cost
  -- A reward (a negative cost) never leaves less than nothing.
  if count + add < 0 then add = -count end
  count = count + add
  if same then
    -- The key already expires when this window ends: add to it (INCRBY costs Redis half
    -- of a SET with PX, which also replaces the expiry).
    redis.call('INCRBY', key, string.format('%d', add * TAG))
  else
    redis.call('SET', key, string.format('%d', count * TAG + tag), 'PX', math.max(1, ms(left)))
  end
end
remaining = math.max(0, limit - count)
reset = count > 0 and left or 0
retry = count + cost > limit and left or 0
