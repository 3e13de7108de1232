-- ARGV: 1 pause, 0 resume. A paused queue hands out no jobs; adds still succeed.
if ARGV[1] == '1' then
  redis.call('HSET', K_META, 'paused', '1')
  event('paused')
else
  redis.call('HDEL', K_META, 'paused')
  redis.call('ZADD', K_MARKER, 0, '0')
  event('resumed')
end
return 1
