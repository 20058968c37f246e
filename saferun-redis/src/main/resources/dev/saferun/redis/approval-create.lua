-- Stores a new approval record. KEYS[1] = record hash, KEYS[2] = pending index (sorted set),
-- KEYS[3] (optional) = open-request key of its call. ARGV = id, state, record JSON, created-at
-- millis (the index score), time to live (ms). Returns 0 when the id already exists.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'record', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
if ARGV[2] == 'PENDING' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  keep_for(KEYS[2], ttl)
end
if KEYS[3] then redis.call('SET', KEYS[3], ARGV[1], 'PX', ttl) end
return 1
