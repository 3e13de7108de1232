-- ARGV: id, reason. Reply: 1 the job is active: flagged, its worker sees it in its next
-- extend reply and fails it as cancelled; 2 it was waiting or delayed: failed now with
-- `reason`; 0 no such job, or finished already.
local id, reason = ARGV[1], ARGV[2]
local key = jkey(id)
if redis.call('EXISTS', key) == 0 then
  return 0
end
if redis.call('ZSCORE', K_ACTIVE, id) then
  redis.call('HSET', key, 'cxl', '1')
  event('cancelled', 'id', id)
  return 1
end
if redis.call('ZSCORE', K_COMPLETED, id) or redis.call('ZSCORE', K_FAILED, id) then
  return 0
end
if redis.call('ZREM', K_PRIO, id) + redis.call('ZREM', K_DELAYED, id) == 0 then
  redis.call('LREM', K_WAIT, 1, id)
end
redis.call('HSET', key, 'cxl', '1', 'fr', reason, 'fon', now_s)
redis.call('ZADD', K_FAILED, now_s, id)
event('cancelled', 'id', id)
event('failed', 'id', id, 'fr', reason)
local j = redis.call('HMGET', key, 'opts', 'ddid')
release_dedup(id, j[2])
apply_removal(id, decode_opts(j[1])['remove_on_fail'], K_FAILED)
return 2
