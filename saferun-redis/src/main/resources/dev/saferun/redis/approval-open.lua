-- The open (pending or approved-not-used) record of a call, or nil. KEYS[1] = open-request key;
-- ARGV[1] = record key prefix.
local id = redis.call('GET', KEYS[1])
if not id then return false end
local r = redis.call('HMGET', ARGV[1] .. id, 'state', 'record')
if r[1] == 'PENDING' or r[1] == 'APPROVED' then return r[2] end
return false
