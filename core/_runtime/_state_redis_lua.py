"""The Lua scripts of :class:`~dualtrack._runtime._state_redis.RedisState`, one a check-and-write.

Each runs atomically on the Redis server; :data:`SCRIPTS` names them for
``register_script``. ``KEYS`` and ``ARGV`` are laid out by the method of the
same name in ``_state_redis``.
"""

from __future__ import annotations

__all__ = ["SCRIPTS"]

_RESERVE = """
local now = tonumber(ARGV[1]); local expires = now + tonumber(ARGV[2])
local usd = tonumber(ARGV[4]); local tokens = tonumber(ARGV[5])
local n = #KEYS / 2
for i = 1, n do
  local lu, lt = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  if lu ~= '' or lt ~= '' then
    local s = redis.call('HMGET', KEYS[2 * i - 1], 'usd', 'tokens')
    local su, st = tonumber(s[1]) or 0, tonumber(s[2]) or 0
    local hu, ht = 0, 0
    local h = redis.call('HGETALL', KEYS[2 * i])
    for j = 1, #h, 2 do
      local a, b, e = string.match(h[j + 1], '(%S+) (%S+) (%S+)')
      if tonumber(e) <= now then redis.call('HDEL', KEYS[2 * i], h[j])
      else hu = hu + tonumber(a); ht = ht + tonumber(b) end
    end
    if lu ~= '' and usd > 0 and su + hu + usd > tonumber(lu) then
      return {'usd', tostring(i), string.format('%.17g', su + hu)}
    end
    if lt ~= '' and st + ht + tokens > tonumber(lt) then
      return {'tokens', tostring(i), string.format('%.17g', st + ht)}
    end
  end
end
local v = ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. string.format('%.17g', expires)
for i = 1, n do
  redis.call('HSET', KEYS[2 * i], ARGV[3], v)
  redis.call('EXPIRE', KEYS[2 * i], 172800)
end
return {'ok'}
"""

_USED = """
local now = tonumber(ARGV[1]); local out = {}
for i = 1, #KEYS / 2 do
  local s = redis.call('HMGET', KEYS[2 * i - 1], 'usd', 'tokens')
  local u, t = tonumber(s[1]) or 0, tonumber(s[2]) or 0
  local h = redis.call('HGETALL', KEYS[2 * i])
  for j = 1, #h, 2 do
    local a, b, e = string.match(h[j + 1], '(%S+) (%S+) (%S+)')
    if tonumber(e) > now then u = u + tonumber(a); t = t + tonumber(b) end
  end
  out[#out + 1] = string.format('%.17g', u); out[#out + 1] = string.format('%.17g', t)
end
return out
"""

_SETTLE = """
for i = 1, #KEYS / 2 do
  if ARGV[1] ~= '' then redis.call('HDEL', KEYS[2 * i], ARGV[1]) end
  if tonumber(ARGV[2]) ~= 0 or tonumber(ARGV[3]) ~= 0 then
    redis.call('HINCRBYFLOAT', KEYS[2 * i - 1], 'usd', ARGV[2])
    redis.call('HINCRBY', KEYS[2 * i - 1], 'tokens', ARGV[3])
    redis.call('EXPIRE', KEYS[2 * i - 1], 172800)
  end
end
return 1
"""

_RECORD = """
local f = ARGV[1] .. ARGV[6]
redis.call('HINCRBY', KEYS[1], f .. 'calls', 1)
redis.call('HINCRBY', KEYS[1], f .. 'in', ARGV[2])
redis.call('HINCRBY', KEYS[1], f .. 'out', ARGV[3])
redis.call('HINCRBYFLOAT', KEYS[1], f .. 'usd', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
return 1
"""

_CLAIM = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if tonumber(rec.probe_until) > tonumber(ARGV[2]) then return 0 end
rec.probe_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
"""

_END_PROBE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw); rec.probe_until = 0
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
"""

_LEASE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4]) * 1000))
return 1
"""

_HIT = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return string.format('%.17g', window - (now - tonumber(oldest[2])))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return false
"""

_DELIVER = """
if redis.call('GET', KEYS[1]) == '' then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') return 1 end
return 0
"""

_COLLECT = """
local v = redis.call('GET', KEYS[1])
if v and v ~= '' then redis.call('DEL', KEYS[1]) return v end
return false
"""

SCRIPTS: dict[str, str] = {
    "reserve": _RESERVE,
    "used": _USED,
    "settle": _SETTLE,
    "record": _RECORD,
    "claim": _CLAIM,
    "end_probe": _END_PROBE,
    "lease": _LEASE,
    "hit": _HIT,
    "deliver": _DELIVER,
    "collect": _COLLECT,
}
"""Script name -> Lua source."""
