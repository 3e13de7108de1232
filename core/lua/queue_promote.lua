-- ARGV: id. Reply: 1 promoted (ready now), 0 the job is not delayed.
local id = ARGV[1]
if redis.call('ZREM', K_DELAYED, id) == 0 then
  return 0
end
local o = decode_opts(redis.call('HGET', jkey(id), 'opts'))
push_ready(id, o['priority'], o['lifo'])
event('waiting', 'id', id)
return 1
