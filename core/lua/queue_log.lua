-- ARGV: id, line. Reply: the number of log lines, or -1 when there is no such job.
if redis.call('EXISTS', jkey(ARGV[1])) == 0 then
  return -1
end
return redis.call('RPUSH', B .. 'l:' .. ARGV[1], ARGV[2])
