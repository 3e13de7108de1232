-- Advance a scheduler past the slot whose job was just taken: add the next slot's job.
-- ARGV: scheduler id, taken slot_ms, next slot_ms, job name, data, opts JSON.
-- Reply: 1 advanced; 0 someone did already, or the scheduler was replaced or removed.
local sid, taken, slot = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = redis.call('ZSCORE', K_SCHED, sid)
if not cur or tonumber(cur) ~= taken or redis.call('HEXISTS', K_SCHEDD, sid) == 0 then
  return 0
end
redis.call('ZADD', K_SCHED, fmt(slot), sid)
local jid = 'repeat:' .. sid .. ':' .. fmt(slot)
local key = jkey(jid)
if redis.call('EXISTS', key) == 0 then
  redis.call('HSET', key, 'name', ARGV[4], 'data', ARGV[5], 'opts', ARGV[6], 'ts', now_s,
    'sid', sid, 'slot', fmt(slot))
  if slot > now then
    push_delayed(jid, slot)
    event('delayed', 'id', jid, 'at', fmt(slot))
  else
    local o = decode_opts(ARGV[6])
    push_ready(jid, o['priority'], o['lifo'])
    event('waiting', 'id', jid)
  end
end
return 1
