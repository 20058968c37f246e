-- Helpers prepended to every SafeRun script.
-- Exact arithmetic on non-negative integers written as decimal strings without leading zeros
-- ("0" is zero). Counter values are amounts scaled by 10^fractionDigits. Lua numbers are
-- doubles, exact only below 2^53, so long values are handled in 14-digit chunks: a chunk sum
-- stays below 2 * 10^14 and is always exact.
local CHUNK = 14
local BASE = 1e14

local function dec_norm(s)
  local i, n = 1, #s
  while i < n and string.byte(s, i) == 48 do i = i + 1 end
  return string.sub(s, i)
end

local function dec_cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local function dec_chunk(s, i)
  if i <= 0 then return 0 end
  local from = i - CHUNK + 1
  if from < 1 then from = 1 end
  return tonumber(string.sub(s, from, i))
end

local function dec_add(a, b)
  -- Zero is written "0" and nothing else (no leading zeros): adding it changes nothing.
  if a == '0' then return b end
  if b == '0' then return a end
  if #a <= 15 and #b <= 15 then
    return string.format('%.0f', tonumber(a) + tonumber(b))
  end
  local parts, i, j, carry = {}, #a, #b, 0
  while i > 0 or j > 0 or carry > 0 do
    local s = dec_chunk(a, i) + dec_chunk(b, j) + carry
    if s >= BASE then s = s - BASE; carry = 1 else carry = 0 end
    table.insert(parts, 1, string.format('%014.0f', s))
    i = i - CHUNK
    j = j - CHUNK
  end
  return dec_norm(table.concat(parts))
end

-- a - b, or "0" when b >= a (a refund never takes a bucket below zero).
local function dec_sub(a, b)
  if dec_cmp(a, b) <= 0 then return '0' end
  if #a <= 15 then
    return string.format('%.0f', tonumber(a) - tonumber(b))
  end
  local parts, i, j, borrow = {}, #a, #b, 0
  while i > 0 do
    local s = dec_chunk(a, i) - dec_chunk(b, j) - borrow
    if s < 0 then s = s + BASE; borrow = 1 else borrow = 0 end
    table.insert(parts, 1, string.format('%014.0f', s))
    i = i - CHUNK
    j = j - CHUNK
  end
  return dec_norm(table.concat(parts))
end

-- Extends a key's time to live to at least ttl milliseconds (never shortens it). When it must
-- grow, it grows by one second more, so the next charges in the same bucket (whose ttl differs
-- only by how long each took to reach Redis) find it long enough and skip the PEXPIRE.
local function keep_for(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl + 1000) end
end
