-- Every pending record, oldest first. KEYS[1] = pending index; ARGV[1] = record key prefix.
-- Drops index entries whose record is gone or no longer pending.
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local r = redis.call('HMGET', ARGV[1] .. id, 'state', 'record')
  if r[1] == 'PENDING' then out[#out + 1] = r[2] else redis.call('ZREM', KEYS[1], id) end
end
return out
