-- ARGV: id, progress JSON. Reply: 1, or 0 when there is no such job.
local key = jkey(ARGV[1])
if redis.call('EXISTS', key) == 0 then
  return 0
end
redis.call('HSET', key, 'prog', ARGV[2])
event('progress', 'id', ARGV[1], 'data', ARGV[2])
return 1
