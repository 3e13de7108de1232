-- Several rules: the algorithm becomes a function of its rule. A first pass only reads;
-- the second writes when every rule allows (or when denied requests are counted), so a
-- denied multi-limit decision consumes nothing, and reports each rule as it then stands
-- (reading a rule twice costs less than keeping every rule's state in a table).
local function rule(key, limit, window, burst, write)
  local ok, remaining, reset, retry
-- ALGORITHM
  return ok, remaining, reset, retry
end

local function run(i, write)
  local at = 3 * i - 1
  return rule(KEYS[i], ARGV[at] + 0, ARGV[at + 1] + 0, ARGV[at + 2] + 0, write)
end

local rules = #KEYS
--block: rules = rules - 1
--adjust: -- penalty (ARGV[1] = n > 0) or reward (ARGV[1] = -n, a negative cost), written to every
--adjust: -- rule whether or not it fits, as count_denied writes (a penalty never empties a
--adjust: -- bucket below empty, a reward never fills anything above full); the reply is then
--adjust: -- what a peek sees. Lines marked `--adjust:` are kept only in the penalty/reward script
--adjust: -- (scripts.rs).
--adjust: cost, count_denied = ARGV[1] + 0, true
--adjust: for i = 1, rules do run(i, true) end
--adjust: cost, count_denied, consume = 1, false, false
local allowed = true
for i = 1, rules do
  if not run(i, false) then allowed = false end
end
local write = consume and (allowed or count_denied)
--block: -- Blocked: nothing is consumed or counted, and the request is denied until the block ends.
--block: local blocked = redis.call('PTTL', block_key) * 1000
--block: if blocked > 0 then write = false end
-- Report the rule closest to its limit (ties: the one that takes longest to reset), and
-- the longest wait any rule imposes.
local best, best_remaining, best_reset, longest = nil, 0, 0, 0
for i = 1, rules do
  local _, remaining, reset, retry = run(i, write)
  if best == nil or remaining < best_remaining
      or (remaining == best_remaining and reset > best_reset) then
    best, best_remaining, best_reset = i, remaining, reset
  end
  if retry > longest then longest = retry end
end
if allowed then longest = 0 end
--block: if blocked > 0 or (consume and not allowed) then
--block:   if blocked <= 0 then
--block:     -- Exceeded: denied for block_for from now, in every process.
--block:     redis.call('SET', block_key, '1', 'PX', block_ms)
--block:     blocked = block_for
--block:   end
--block:   allowed, best_remaining = false, 0
--block:   if longest < blocked then longest = blocked end
--block:   if best_reset < longest then best_reset = longest end
--block: end
local at = 3 * best - 1
return {allowed and 1 or 0, ARGV[at] + ARGV[at + 2], best_remaining, ms(best_reset), ms(longest)}
