package redis

// The Lua scripts below mirror the arithmetic of limiter/algorithms.go to the
// nanosecond. Lua numbers are doubles, exact only up to 2^53, and Unix
// nanoseconds exceed that, so instants and durations are pairs (u, f)
// meaning u×1000 + f nanoseconds with 0 ≤ f < 1000: u, in microseconds,
// stays exact until the year 2255. Counts times durations go through an
// exact long multiplication. Each script touches exactly one key, KEYS[1],
// and takes:
//
//	ARGV[1] now: Unix microseconds, or "" to read the server's TIME
//	ARGV[2] now: the nanoseconds below the microsecond (0 with TIME)
//	ARGV[3] the limit's amount
//	ARGV[4] the window in microseconds (windows are whole seconds)
//	ARGV[5] the cost of the hit
//	ARGV[6] the grace in milliseconds added to every PX/PEXPIRE
//	ARGV[7] the mode: "acquire", "peek", or for fixed windows "elastic"
//	ARGV[8..11] token bucket only: the emission interval and the capacity,
//	            as (u, f) pairs
//
// and return {allowed (1 or 0), remaining, reset u, reset f, retry u,
// retry f}, reset and retry being offsets from the script's now.
// Correctness depends only on the instants stored in the values; key TTLs
// only reclaim memory.

// prelude is shared by every script.
const prelude = `
local nu, nf
if ARGV[1] ~= '' then
  nu, nf = tonumber(ARGV[1]), tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  nu, nf = tonumber(t[1]) * 1000000 + tonumber(t[2]), 0
end
local amount, window, cost = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local grace, mode = tonumber(ARGV[6]), ARGV[7]

-- int renders an integral number without an exponent.
local function int(n) return string.format('%d', n) end

-- fdiv returns floor(a / b) for integers with b > 0, corrected for rounding.
local function fdiv(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1 elseif r >= b then q = q + 1 end
  return q
end

-- Pairs (u, f): u*1000 + f nanoseconds.
local function norm(u, f)
  local c = fdiv(f, 1000)
  return u + c, f - c * 1000
end
local function add(au, af, bu, bf) return norm(au + bu, af + bf) end
local function sub(au, af, bu, bf) return norm(au - bu, af - bf) end
local function lt(au, af, bu, bf) return au < bu or (au == bu and af < bf) end
local function le(au, af, bu, bf) return au < bu or (au == bu and af <= bf) end

-- px is the PX argument for a value whose state matters until (u, f).
local function px(u) return int(math.ceil((u - nu + 1) / 1000) + grace) end

-- muldiv returns q, r with a*b = q*c + r and 0 <= r < c, for non-negative
-- integers a, b <= c, c > 0, exactly even when a*b exceeds 2^53: binary long
-- multiplication keeps every intermediate value below 2c.
local function muldiv(a, b, c)
  local n = a * b
  if n < 4503599627370496 and c < 4503599627370496 then
    local q = fdiv(n, c)
    return q, n - q * c
  end
  local bits = {}
  while a > 0 do
    local h = math.floor(a / 2)
    bits[#bits + 1] = a - 2 * h
    a = h
  end
  local q, r = 0, 0
  for i = #bits, 1, -1 do
    if r >= c - r then q, r = 2 * q + 1, r - (c - r) else q, r = 2 * q, 2 * r end
    if bits[i] == 1 then
      if r >= c - b then q, r = q + 1, r - (c - b) else r = r + b end
    end
  end
  return q, r
end
`

// fixedWindowSource keeps "count:u:f", the count and the expiry, in a
// string.
const fixedWindowSource = prelude + `
local count, eu, ef = 0, nil, nil
local v = redis.call('GET', KEYS[1])
if v then
  local c, u, f = string.match(v, '^(%d+):(%-?%d+):(%d+)$')
  if c then count, eu, ef = tonumber(c), tonumber(u), tonumber(f) end
end
local live = eu ~= nil and lt(nu, nf, eu, ef)
if mode == 'peek' then
  if not live then
    if cost <= amount then return {1, amount, 0, 0, 0, 0} end
    return {0, amount, 0, 0, 0, 0}
  end
  local ru, rf = sub(eu, ef, nu, nf)
  if cost <= amount - count then return {1, amount - count, ru, rf, 0, 0} end
  return {0, amount - count, ru, rf, ru, rf}
end
if not live then
  count = 0
  eu, ef = add(nu, nf, window, 0)
end
local allowed = cost <= amount - count
if allowed then count = count + cost end
if mode == 'elastic' then eu, ef = add(nu, nf, window, 0) end
if allowed or not live or mode == 'elastic' then
  redis.call('SET', KEYS[1], int(count) .. ':' .. int(eu) .. ':' .. int(ef), 'PX', px(eu))
end
local ru, rf = sub(eu, ef, nu, nf)
if allowed then return {1, amount - count, ru, rf, 0, 0} end
return {0, amount - count, ru, rf, ru, rf}
`

// movingWindowSource keeps the log in a list, one element "u.fff" (the
// instant to the nanosecond) per unit taken, newest first. Every acquire
// drops the elements that have left the window from the tail, so the live
// count is the length; instants from clocks that interleave are inserted in
// order.
const movingWindowSource = prelude + `
local function instant(i)
  local u, f = string.match(redis.call('LINDEX', KEYS[1], i), '^(%-?%d+)%.(%d+)$')
  return tonumber(u), tonumber(f)
end
-- count returns how many of the first len elements are after (u, f):
-- a binary search, the list being in descending order.
local function count(len, u, f)
  local lo, hi = 0, len
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if lt(u, f, instant(mid)) then lo = mid + 1 else hi = mid end
  end
  return lo
end
-- An element at t is live while t > cutoff.
local cu, cf = sub(nu, nf, window, 0)
local len = redis.call('LLEN', KEYS[1])
local n = len
if len > 0 and not lt(cu, cf, instant(len - 1)) then
  n = count(len, cu, cf)
  if mode ~= 'peek' then
    if n == 0 then redis.call('DEL', KEYS[1]) else redis.call('LTRIM', KEYS[1], 0, n - 1) end
    len = n
  end
end
local wu, wf
if n > 0 then wu, wf = instant(0) end
local allowed = cost <= amount - n
if allowed and mode ~= 'peek' then
  local at = int(nu) .. '.' .. string.format('%03d', nf)
  if n == 0 or not lt(nu, nf, wu, wf) then
    local args = {}
    for i = 1, cost do
      args[#args + 1] = at
      if #args >= 1000 or i == cost then
        redis.call('LPUSH', KEYS[1], unpack(args))
        args = {}
      end
    end
    wu, wf = nu, nf
  else
    -- behind the newest element: insert before the first one not after now
    local p = count(len, nu, nf)
    if p == len then
      for _ = 1, cost do redis.call('RPUSH', KEYS[1], at) end
    else
      local pivot = redis.call('LINDEX', KEYS[1], p)
      for _ = 1, cost do redis.call('LINSERT', KEYS[1], 'BEFORE', pivot, at) end
    end
  end
  local ru, rf = sub(wu + window, wf, nu, nf)
  redis.call('PEXPIRE', KEYS[1], px(wu + window))
  return {1, amount - n - cost, ru, rf, 0, 0}
end
local remaining = amount - n
if remaining < 0 then remaining = 0 end
local ru, rf = 0, 0
if n > 0 then ru, rf = sub(wu + window, wf, nu, nf) end
if allowed then return {1, remaining, ru, rf, 0, 0} end
if cost > amount then return {0, remaining, ru, rf, ru, rf} end
-- the unit that must leave the window before cost fits
local eu, ef = instant(amount - cost)
local tu, tf = sub(eu + window, ef, nu, nf)
return {0, remaining, ru, rf, tu, tf}
`

// slidingWindowSource keeps "start:current:previous" in a string, start
// being a multiple of the window since the Unix epoch, in microseconds.
const slidingWindowSource = prelude + `
local start, cur, prev = 0, 0, 0
local v = redis.call('GET', KEYS[1])
if v then
  local s, c, p = string.match(v, '^(%-?%d+):(%d+):(%d+)$')
  if s then start, cur, prev = tonumber(s), tonumber(c), tonumber(p) end
end
local eu = nu - fdiv(nu, window) * window -- elapsed is (eu, nf)
local s0 = nu - eu
if start == s0 then
elseif start + window == s0 then
  prev, cur = cur, 0
else
  prev, cur = 0, 0
end
start = s0
-- what is left of the window: (lu, lf)
local lu, lf = sub(window, 0, eu, nf)

-- weight returns floor(count * left / window), both in nanoseconds.
local function weight(count)
  if count == 0 then return 0 end
  local q, r = muldiv(count, lu, window)
  -- add floor((1000 r + count lf) / (1000 window)), without overflow
  local x, j = count * lf, 1
  while true do
    local gap = j * window - r
    if gap > count or x < 1000 * gap then break end
    q, j = q + 1, j + 1
  end
  return q
end

-- span returns the largest span k <= window, in nanoseconds as a pair,
-- with floor(count * k / window) <= room.
local function span(count, room)
  if count == 0 or room + 1 > count then return window, 0 end
  local q, r = muldiv(window, room + 1, count)
  -- k = 1000 q + ceil(1000 r / count) - 1
  local ku, kf = norm(q, fdiv(1000 * r + count - 1, count) - 1)
  if lt(window, 0, ku, kf) then return window, 0 end
  return ku, kf
end

local function decide()
  local weighted = weight(prev) + cur
  local remaining = amount - weighted
  if remaining < 0 then remaining = 0 end
  local ru, rf = 0, 0
  if cur > 0 then
    ru, rf = sub(2 * window - eu, 0, 0, nf)
  elseif prev > 0 then
    ru, rf = sub(window - eu, 0, 0, nf)
  end
  if cost <= amount - weighted then return 1, remaining, ru, rf, 0, 0 end
  if cost > amount then return 0, remaining, ru, rf, ru, rf end
  local room = amount - cur - cost
  if room >= 0 then
    -- later in this window: start + max(elapsed, window - span) - now
    local su, sf = sub(window, 0, span(prev, room))
    if lt(su, sf, eu, nf) then return 0, remaining, ru, rf, 0, 0 end
    local tu, tf = sub(su, sf, eu, nf)
    return 0, remaining, ru, rf, tu, tf
  end
  -- in the next window: start + window + (window - span) - now
  local su, sf = sub(2 * window, 0, span(cur, amount - cost))
  local tu, tf = sub(su, sf, eu, nf)
  return 0, remaining, ru, rf, tu, tf
end

local allowed, remaining, ru, rf, tu, tf = decide()
if allowed == 1 and mode ~= 'peek' then
  cur = cur + cost
  redis.call('SET', KEYS[1], int(start) .. ':' .. int(cur) .. ':' .. int(prev), 'PX', px(start + 2 * window))
  local _
  _, remaining, ru, rf = decide()
end
return {allowed, remaining, ru, rf, tu, tf}
`

// tokenBucketSource keeps the theoretical arrival time, "u:f", in a string.
const tokenBucketSource = prelude + `
local iu, ifr, cu, cf = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local tu, tf = 0, 0
local v = redis.call('GET', KEYS[1])
if v then
  local u, f = string.match(v, '^(%-?%d+):(%d+)$')
  if u then tu, tf = tonumber(u), tonumber(f) end
end
if lt(tu, tf, nu, nf) then tu, tf = nu, nf end

-- times returns k intervals as a pair.
local function times(k) return norm(k * iu, k * ifr) end

-- left returns the whole tokens in a bucket whose TAT is (u, f):
-- floor((capacity - (tat - now)) / interval), at least 0.
local function left(u, f)
  local du, df = sub(u, f, nu, nf)
  local xu, xf = sub(cu, cf, du, df)
  if xu < 0 then return 0 end
  local q = math.floor((xu * 1000 + xf) / (iu * 1000 + ifr))
  if q < 0 then q = 0 end
  while q > 0 and lt(xu, xf, times(q)) do q = q - 1 end
  while true do
    local au, af = times(q + 1)
    if not le(au, af, xu, xf) then break end
    q = q + 1
  end
  return q
end

local ru, rf = sub(tu, tf, nu, nf)
if cost > amount then return {0, left(tu, tf), ru, rf, ru, rf} end
local xu, xf = add(tu, tf, times(cost))
local du, df = sub(xu, xf, nu, nf)
if le(du, df, cu, cf) then
  if mode == 'peek' then return {1, left(tu, tf), ru, rf, 0, 0} end
  redis.call('SET', KEYS[1], int(xu) .. ':' .. int(xf), 'PX', px(xu))
  return {1, left(xu, xf), du, df, 0, 0}
end
local bu, bf = sub(du, df, cu, cf)
return {0, left(tu, tf), ru, rf, bu, bf}
`

// The scripts, run with EVALSHA and loaded with EVAL on NOSCRIPT.
var (
	fixedWindowScript   = newScript(fixedWindowSource)
	movingWindowScript  = newScript(movingWindowSource)
	slidingWindowScript = newScript(slidingWindowSource)
	tokenBucketScript   = newScript(tokenBucketSource)
)
