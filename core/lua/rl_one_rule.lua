-- One rule, the common case: the algorithm runs inline, and writes as soon as it decides.
local key, limit, window, burst = KEYS[1], ARGV[2] + 0, ARGV[3] + 0, ARGV[4] + 0
local write = consume
local ok, remaining, reset, retry
--block: -- Blocked: decide as a peek (nothing is consumed or counted) and deny until the block ends.
--block: local blocked = redis.call('PTTL', block_key) * 1000
--block: if blocked > 0 then write = false end
-- ALGORITHM
--block: if blocked > 0 or (consume and not ok) then
--block:   if blocked <= 0 then
--block:     -- Exceeded: denied for block_for from now, in every process.
--block:     redis.call('SET', block_key, '1', 'PX', block_ms)
--block:     blocked = block_for
--block:   end
--block:   ok, remaining = false, 0
--block:   if retry < blocked then retry = blocked end
--block:   if reset < retry then reset = retry end
--block: end
local reset_ms = ms(reset)
-- An admission in one integer when its numbers fit (below 2^53, exact in a Lua number):
-- remaining below 2^20, reset_after_ms below 2^32 (about 50 days).
if ok and remaining < 1048576 and reset_ms < 4294967296 then
  return (reset_ms * 1048576 + remaining) * 2 + 1
end
return {ok and 1 or 0, limit + burst, remaining, reset_ms, ok and 0 or ms(retry)}
