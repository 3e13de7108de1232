-- One rule, the common case: the algorithm runs inline, and writes as soon as it decides.
local key, limit, window, burst = KEYS[1], ARGV[5] + 0, ARGV[6] + 0, ARGV[7] + 0
local write = consume
local ok, remaining, reset, retry
-- ALGORITHM
return {ok and 1 or 0, limit + burst, remaining, ms(reset), ok and 0 or ms(retry)}
