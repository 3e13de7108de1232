-- Shared head of every queue script (core/src/queue/scripts.rs prepends it). The layout it
-- works on is docs/WIRE.md, section Queue.
--
-- KEYS[1] is the queue's base, `<prefix>:{queue:<name>}:`: it carries the queue's hash tag,
-- so a cluster routes the call to the queue's slot, and every key below shares that tag.
-- Time is the server's: ms since the Unix epoch, read once per call.
local B = KEYS[1]
local K_META = B .. 'meta'
local K_WAIT = B .. 'wait'
local K_PRIO = B .. 'prio'
local K_DELAYED = B .. 'delayed'
local K_ACTIVE = B .. 'active'
local K_COMPLETED = B .. 'completed'
local K_FAILED = B .. 'failed'
local K_GC = B .. 'gc'
local K_MARKER = B .. 'marker'
local K_EVENTS = B .. 'events'
local K_DEDUP = B .. 'dedup'
local K_DEDUPX = B .. 'dedupx'
local K_WORKERS = B .. 'workers'
local K_WINFO = B .. 'winfo'
local K_SCHED = B .. 'sched'
local K_SCHEDD = B .. 'schedd'

local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)

-- Numbers reach Redis through '%d': Lua's default conversion prints 14 significant digits,
-- and scores (ready_ms × 4096) have 16.
local function fmt(n)
  return string.format('%d', n)
end

-- `now` as Redis reads it, formatted once per call (the hot paths write it for every job).
local now_s = fmt(now)

local function jkey(id)
  return B .. 'j:' .. id
end

-- Events stream, bounded (approximate trim: Redis trims whole nodes, cheaply). The first
-- event of a call trims, the others of the same call append only: the stream stays within
-- 10,000 + one node + one call's events, and a bulk call does not pay the trim per event.
local trimmed = false
local function event(...)
  if trimmed then
    redis.call('XADD', K_EVENTS, '*', 'ev', ...)
  else
    trimmed = true
    redis.call('XADD', K_EVENTS, 'MAXLEN', '~', 10000, '*', 'ev', ...)
  end
end

-- The meta fields the hot path reads, in one HMGET per call (see `load_meta`): paused, the
-- limiter's window (lw, lc), the first delayed job's due time (nd), the first age-based
-- removal's due time (gcat). nd and gcat are never later than the truth (a removal may
-- leave them early, which costs one look), so a call with nothing due skips the look.
local meta

local function load_meta()
  if not meta then
    meta = redis.call('HMGET', K_META, 'paused', 'lw', 'lc', 'nd', 'gcat')
  end
  return meta
end

local function next_seq()
  return redis.call('HINCRBY', K_META, 'seq', 1)
end

-- The job's options, read and never changed; most jobs carry none ('{}'), which costs no
-- decode and no table (they share one).
local NO_OPTS = {}
local function decode_opts(raw)
  if not raw or raw == '{}' then
    return NO_OPTS
  end
  return cjson.decode(raw)
end

-- Make a job ready: `prio` zset when it has a priority (FIFO within one), else the wait
-- list (head for lifo). Wakes one idle worker.
local function push_ready(id, priority, lifo)
  if priority and priority > 0 then
    redis.call('ZADD', K_PRIO, fmt(priority * 4294967296 + next_seq() % 4294967296), id)
    redis.call('ZADD', K_MARKER, 0, '0')
    return
  end
  local len
  if lifo then
    len = redis.call('LPUSH', K_WAIT, id)
  else
    len = redis.call('RPUSH', K_WAIT, id)
  end
  -- A longer list got its wake-up when it held one job (from the push or the take that
  -- left it so), and every take that may leave jobs adds one again.
  if len == 1 then
    redis.call('ZADD', K_MARKER, 0, '0')
  end
end

local function push_delayed(id, ready_ms)
  redis.call('ZADD', K_DELAYED, fmt(ready_ms * 4096 + next_seq() % 4096), id)
  local nd = load_meta()[4]
  if not nd or ready_ms < tonumber(nd) then
    meta[4] = fmt(ready_ms)
    redis.call('HSET', K_META, 'nd', meta[4])
    -- An idle worker wakes to shorten its wait: this job is now the first due.
    redis.call('ZADD', K_MARKER, 0, '0')
  end
end

-- Release the job's deduplication id if it holds one without a ttl (those last until the
-- job completes or fails; ones with a ttl last their ttl).
local function release_dedup(id, ddid)
  if ddid and redis.call('HGET', K_DEDUP, ddid) == id then
    if redis.call('ZSCORE', K_DEDUPX, ddid) == 'inf' then
      redis.call('HDEL', K_DEDUP, ddid)
      redis.call('ZREM', K_DEDUPX, ddid)
    end
  end
end

-- Delete a finished job's keys and index entries (its state set is given).
local function delete_finished(id, zkey)
  local ddid = redis.call('HGET', jkey(id), 'ddid')
  release_dedup(id, ddid)
  redis.call('DEL', jkey(id), B .. 'l:' .. id)
  redis.call('ZREM', zkey, id)
  redis.call('ZREM', K_GC, id)
end

-- Age-based removal that is due, at most `limit` jobs; then the next due time.
local function collect_garbage(limit)
  local due = redis.call('ZRANGEBYSCORE', K_GC, '-inf', now_s, 'LIMIT', 0, limit)
  for _, id in ipairs(due) do
    redis.call('ZREM', K_COMPLETED, id)
    redis.call('ZREM', K_FAILED, id)
    delete_finished(id, K_GC)
  end
  local first = redis.call('ZRANGE', K_GC, 0, 0, 'WITHSCORES')
  load_meta()
  if first[2] then
    meta[5] = first[2]
    redis.call('HSET', K_META, 'gcat', first[2])
  else
    meta[5] = false
    redis.call('HDEL', K_META, 'gcat')
  end
  return #due
end

-- Apply remove_on_complete / remove_on_fail to a job just added to `zkey`. Bounded: at
-- most 1000 older jobs go per call (the next finish continues).
local function apply_removal(id, spec, zkey)
  if spec == nil or spec == false then
    return
  end
  if spec == true then
    delete_finished(id, zkey)
    return
  end
  local count, age
  if type(spec) == 'number' then
    count = spec
  else
    count, age = spec['count'], spec['age']
  end
  if age then
    local at = now + age * 1000
    redis.call('ZADD', K_GC, fmt(at), id)
    local gcat = load_meta()[5]
    if gcat and tonumber(gcat) <= now then
      collect_garbage(100)
    elseif not gcat or at < tonumber(gcat) then
      meta[5] = fmt(at)
      redis.call('HSET', K_META, 'gcat', meta[5])
    end
  end
  if count then
    local excess = redis.call('ZCARD', zkey) - count
    if excess > 0 then
      if excess > 1000 then
        excess = 1000
      end
      for _, old in ipairs(redis.call('ZRANGE', zkey, 0, excess - 1)) do
        delete_finished(old, zkey)
      end
    end
  end
end

-- Promote delayed jobs that are due (at most `limit`) to the ready structures; then the
-- next due time.
local function promote_due(limit)
  local due = redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', fmt(now * 4096 + 4095), 'LIMIT', 0, limit)
  for _, id in ipairs(due) do
    redis.call('ZREM', K_DELAYED, id)
    local o = decode_opts(redis.call('HGET', jkey(id), 'opts'))
    push_ready(id, o['priority'], o['lifo'])
    event('waiting', 'id', id)
  end
  local first = redis.call('ZRANGE', K_DELAYED, 0, 0, 'WITHSCORES')
  load_meta()
  if first[2] then
    meta[4] = fmt(math.floor(first[2] / 4096))
    redis.call('HSET', K_META, 'nd', meta[4])
  else
    meta[4] = false
    redis.call('HDEL', K_META, 'nd')
  end
end

-- Take up to `n` jobs for worker `wid` (every build's worker sends its id; the job's hash
-- does not keep it since q3), each leased for `lock_ms`; the global limiter
-- allows `lmax` takes per `ldur` ms (lmax 0: no limit). Reply (docs/WIRE.md):
-- {1, now, id, fields, token, id, fields, token, ...} (flat: no table per job); {0, wait_ms} nothing ready
-- (-1: no delayed job either); {2, wait_ms} limited for wait_ms, or paused (-1).
local function take(wid, lock_ms, lmax, ldur, n)
  load_meta()
  if meta[1] == '1' then
    return {2, -1}
  end
  local lw, lc
  if lmax > 0 then
    lw, lc = tonumber(meta[2]), tonumber(meta[3])
    if not lw or now >= lw + ldur then
      lw, lc = now, 0
    elseif lc >= lmax then
      return {2, lw + ldur - now}
    end
    n = math.min(n, lmax - lc)
  end
  if meta[4] and tonumber(meta[4]) <= now then
    promote_due(1000)
  end
  local out = {1, now}
  local got = 0
  -- Every job of one call gets the same lease end; they enter the active set in one ZADD
  -- per 500 (unpack() has a stack limit).
  local lx = fmt(now + lock_ms)
  local leased, taken = {}, {}
  local function lease()
    if #taken == #leased / 2 and n >= 32 and redis.call('EXISTS', K_ACTIVE) == 0 then
      -- A worker with many slots gets a skiplist-encoded active set: created with a member
      -- longer than zset-max-listpack-value (removed at once; Redis does not convert a live
      -- set back), whose ZADD and ZREM do not scan the set as a listpack's do (cost:
      -- bench/results/rust-queue.md); the set is empty here, so the member cannot be a job's.
      local filler = string.rep('~', 65)
      leased[#leased + 1] = '0'
      leased[#leased + 1] = filler
      redis.call('ZADD', K_ACTIVE, unpack(leased))
      redis.call('ZREM', K_ACTIVE, filler)
    else
      redis.call('ZADD', K_ACTIVE, unpack(leased))
    end
    leased = {}
  end
  while got < n do
    -- Wait list first, then the priority set, as many as still wanted per pop.
    local ids = redis.call('LPOP', K_WAIT, n - got)
    if not ids then
      ids = {}
      local popped = redis.call('ZPOPMIN', K_PRIO, n - got)
      for i = 1, #popped, 2 do
        ids[#ids + 1] = popped[i]
      end
      if #ids == 0 then
        break
      end
    end
    for _, id in ipairs(ids) do
      -- A ready id always has its hash; one without (a hand-deleted key) is dropped.
      local key = jkey(id)
      local fields = redis.call('HGETALL', key)
      if #fields > 0 then
        -- The delivery's token: one more than the last delivery's; a job's first is 1,
        -- with no parse and no format.
        local tok, tok_s = 1, '1'
        for i = 1, #fields, 2 do
          if fields[i] == 'tok' then
            tok = tonumber(fields[i + 1]) + 1
            tok_s = fmt(tok)
            break
          end
        end
        -- The lease's end is in the hash too, so a finish checks token and lease in one read.
        redis.call('HSET', key, 'tok', tok_s, 'pon', now_s, 'lx', lx)
        leased[#leased + 1] = lx
        leased[#leased + 1] = id
        if #leased == 1000 then
          lease()
        end
        got = got + 1
        taken[got] = id
        out[#out + 1] = id
        out[#out + 1] = fields
        out[#out + 1] = tok
      end
    end
  end
  if #leased > 0 then
    lease()
  end
  if got > 0 then
    -- One event per take, not per job: the ids it leased, a JSON array.
    event('active', 'ids', cjson.encode(taken))
  end
  if got == 0 then
    local first = redis.call('ZRANGE', K_DELAYED, 0, 0, 'WITHSCORES')
    if first[2] then
      return {0, math.max(1, math.floor(first[2] / 4096) - now)}
    end
    return {0, -1}
  end
  if lmax > 0 then
    redis.call('HSET', K_META, 'lw', fmt(lw), 'lc', lc + got)
  end
  -- Jobs may remain (a take that got fewer than it asked for emptied the queue): another
  -- idle worker may take the next ones.
  if got == n then
    redis.call('ZADD', K_MARKER, 0, '0')
  end
  return out
end
