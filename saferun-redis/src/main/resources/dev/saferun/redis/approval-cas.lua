-- Replaces an approval record if it is in the expected state: of concurrent transitions out of
-- one state, on any replica, exactly one wins. KEYS[1] = record hash, KEYS[2] = pending index,
-- KEYS[3] (optional) = open-request key. ARGV = id, expected state, next state, next record JSON,
-- decision channel. Publishes the id on the channel when the record leaves PENDING.
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'record', ARGV[4])
if ARGV[3] ~= 'PENDING' then redis.call('ZREM', KEYS[2], ARGV[1]) end
if KEYS[3] and ARGV[3] ~= 'PENDING' and ARGV[3] ~= 'APPROVED' then
  if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
end
if ARGV[2] == 'PENDING' and ARGV[3] ~= 'PENDING' then redis.call('PUBLISH', ARGV[5], ARGV[1]) end
return 1
