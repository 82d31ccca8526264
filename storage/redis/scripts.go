package redis

import "strconv"

// The Lua scripts below mirror the arithmetic of limiter/algorithms.go to the
// nanosecond. Lua numbers are doubles, exact only up to 2^53, and Unix
// nanoseconds exceed that, so instants and durations are pairs (u, f)
// meaning u×1000 + f nanoseconds with 0 ≤ f < 1000: u, in microseconds,
// stays exact until the year 2255, and no script meets a later instant: the
// latest is two windows after a request's instant, and limiter bounds those
// (Request.Now before 2150, windows of at most limiter.MaxWindow) to before
// August 2248. Counts times durations go through an exact long
// multiplication.
//
// They are written for the server's cost, which is mostly per Redis command
// and per value crossing between Redis and Lua (an argument, a reply element,
// a string parsed as a number): counters are kept natively (HINCRBY), so an
// allowed hit on a live fixed or sliding window writes no formatted string;
// an instant is stored as plain microseconds "u", with ":f" only when its
// nanoseconds are not zero (never with the server clock, which counts
// microseconds); TIME is
// read once per script; and the reply is three integers, five when a
// rejected hit's retry instant differs from its reset. A string that must
// be a number is converted with s + 0, once, rather than with tonumber,
// which parses it twice. Closures and Lua function calls cost too: helpers
// live at the top of a script (created once per script, not once per step,
// and taking what they need as arguments), the common path calls few of
// them, and a nanosecond part known to lie within (-1000, 2000) is
// normalized with one carry rather than a division.
//
// Each algorithm is a function step(K, b) deciding one hit on the key K with
// its arguments at ARGV[b+1]..., acting at the instant (nu, nf), and
// returning x, ru, rf[, tu, tf]: x is the remaining count if the hit is
// allowed and -1 - remaining if not, (ru, rf) the reset and (tu, tf) the
// retry offsets from now; without (tu, tf) a rejected hit's retry is its
// reset. The arguments of every step start with
//
//	ARGV[b+1] the mode: "a" acquire, "p" peek, "e" acquire with elastic expiry
//	ARGV[b+2] the limit's amount
//	ARGV[b+3] the cost of the hit
//
// then the algorithm's own (below), then, with the client clock only, the
// request's instant as Unix microseconds and the nanoseconds below them.
// Without them the scripts read the server's TIME. Correctness depends only
// on the instants stored in the values; key TTLs only reclaim memory.

// fixedWindowStep keeps a hash: n, the count, and e, the expiry instant.
// Arguments: ARGV[b+4] the window in microseconds, ARGV[b+5] the TTL in
// milliseconds of a window that starts now (the window, a millisecond of
// rounding and the grace).
const fixedWindowStep = `
local function step(K, b)
  local mode, amount, cost = A[b + 1], A[b + 2] + 0, A[b + 3] + 0
  local s = redis.call('HMGET', K, 'n', 'e')
  local n, eu, ef = s[1], nil, 0
  if n then
    n = n + 0
    local e = s[2]
    local i = string.find(e, ':', 1, true)
    if i then eu, ef = string.sub(e, 1, i - 1) + 0, string.sub(e, i + 1) + 0 else eu = e + 0 end
  end
  local live = n and (nu < eu or nu == eu and nf < ef)
  if not live then
    if mode == 'p' then
      if cost <= amount then return amount, 0, 0 end
      return -1 - amount, 0, 0
    end
    n = 0
  end
  local ok = cost <= amount - n
  -- a live window moves only for an elastic hit, and only later (a peek
  -- only reaches here on a live window)
  local move = not live
  if mode == 'e' and live then
    local tu = nu + A[b + 4]
    move = eu < tu or eu == tu and ef < nf
  end
  if move then
    -- a new window, or an elastic one that now ends a window from now
    eu, ef = nu + A[b + 4], nf
    if ok then n = n + cost end
    local e = eu
    if ef ~= 0 then e = string.format('%d:%d', eu, ef) end
    redis.call('HSET', K, 'n', string.format('%d', n), 'e', e)
    redis.call('PEXPIRE', K, A[b + 5])
  elseif ok and mode ~= 'p' then
    n = redis.call('HINCRBY', K, 'n', A[b + 3])
  end
  local ru, rf = eu - nu, ef - nf
  if rf < 0 then ru, rf = ru - 1, rf + 1000 end
  if ok then return amount - n, ru, rf end
  return n - amount - 1, ru, rf
end
`

// movingWindowStep keeps the log in a list, one element per unit taken (the
// instant it was taken), newest first. Every acquire drops the elements that
// have left the window from the tail, so the live count is the length;
// instants from clocks that interleave are inserted in order. Arguments:
// ARGV[b+4] the window in microseconds, ARGV[b+5] the grace in milliseconds.
const movingWindowStep = `
-- instant returns the instant of the element i of the list K.
local function instant(K, i)
  local v = redis.call('LINDEX', K, i)
  local j = string.find(v, ':', 1, true)
  if j then return string.sub(v, 1, j - 1) + 0, string.sub(v, j + 1) + 0 end
  return v + 0, 0
end
-- count returns how many of the first len elements of K are after (u, f):
-- a binary search, the list being in descending order.
local function count(K, len, u, f)
  local lo, hi = 0, len
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local mu, mf = instant(K, mid)
    if u < mu or u == mu and f < mf then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- live returns how many of the first len elements of K are after (u, f),
-- the last one being known not to be: the same count, searched from the
-- tail, where hits at a steady rate leave one or two elements to drop.
local function live(K, len, u, f)
  local lo, hi, d = 0, len - 1, 1
  while hi > 0 do
    local i = hi - d
    if i < 0 then i = 0 end
    local iu, ifr = instant(K, i)
    if u < iu or u == iu and f < ifr then
      lo = i + 1
      break
    end
    hi, d = i, 2 * d
  end
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local mu, mf = instant(K, mid)
    if u < mu or u == mu and f < mf then lo = mid + 1 else hi = mid end
  end
  return lo
end

local function step(K, b)
  local mode, amount, cost, window = A[b + 1], A[b + 2] + 0, A[b + 3] + 0, A[b + 4] + 0
  -- An element at t is live while t > now - window.
  local cu, cf = nu - window, nf
  local len = redis.call('LLEN', K)
  local n = len
  if len > 0 then
    local ou, of = instant(K, -1)
    if not (cu < ou or cu == ou and cf < of) then
      n = live(K, len, cu, cf)
      -- only an allowed hit drops them: for a rejected one they still
      -- count at the instant of a hit from a lagging clock
      if mode ~= 'p' and cost <= amount - n then
        if n == 0 then redis.call('DEL', K) else redis.call('LTRIM', K, 0, n - 1) end
        len = n
      end
    end
  end
  local wu, wf
  if n > 0 then wu, wf = instant(K, 0) end
  -- (Nanosecond parts are in [0, 1000): a difference of two needs one
  -- borrow at most.)
  if cost <= amount - n and mode ~= 'p' then
    local at = nu
    if nf ~= 0 then at = string.format('%d:%d', nu, nf) end
    if n == 0 or nu > wu or nu == wu and nf >= wf then
      if cost == 1 then
        redis.call('LPUSH', K, at)
      else
        local args = {}
        for i = 1, cost do
          args[#args + 1] = at
          if #args >= 1000 or i == cost then
            redis.call('LPUSH', K, unpack(args))
            args = {}
          end
        end
      end
      wu, wf = nu, nf
    else
      -- behind the newest element: insert before the first one not after now
      local p = count(K, len, nu, nf)
      if p == len then
        for _ = 1, cost do redis.call('RPUSH', K, at) end
      else
        local pivot = redis.call('LINDEX', K, p)
        for _ = 1, cost do redis.call('LINSERT', K, 'BEFORE', pivot, at) end
      end
    end
    redis.call('PEXPIRE', K, math.ceil((wu + window - nu + 1) / 1000) + A[b + 5])
    local ru, rf = wu + window - nu, wf - nf
    if rf < 0 then ru, rf = ru - 1, rf + 1000 end
    return amount - n - cost, ru, rf
  end
  local remaining = amount - n
  if remaining < 0 then remaining = 0 end
  local ru, rf = 0, 0
  if n > 0 then
    ru, rf = wu + window - nu, wf - nf
    if rf < 0 then ru, rf = ru - 1, rf + 1000 end
  end
  if cost <= amount - n then return remaining, ru, rf end
  if cost > amount then return -1 - remaining, ru, rf end
  -- the unit that must leave the window before cost fits
  local eu, ef = instant(K, amount - cost)
  local tu, tf = eu + window - nu, ef - nf
  if tf < 0 then tu, tf = tu - 1, tf + 1000 end
  return -1 - remaining, ru, rf, tu, tf
end
`

// slidingWindowStep keeps a hash: s, the start of the current window (a
// multiple of the window since the Unix epoch, in microseconds), c and p,
// the counts of the current and the previous window. Arguments: ARGV[b+4]
// the window in microseconds, ARGV[b+5] the grace in milliseconds.
const slidingWindowStep = `
-- fdiv returns floor(a / b) for integers with b > 0, corrected for rounding.
local function fdiv(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1 elseif r >= b then q = q + 1 end
  return q
end
-- muldiv returns q, r with a*b = q*c + r and 0 <= r < c, for non-negative
-- integers a and b <= c, c > 0 and q < 2^53, exactly even when a*b exceeds
-- 2^53: binary long multiplication keeps every intermediate value below 2c.
-- (Callers pass b = lf < 1000 or b = 1000 against a window of at least a
-- second, 10^6 microseconds.)
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

local function step(K, b)
  local mode, amount, cost, window = A[b + 1], A[b + 2] + 0, A[b + 3] + 0, A[b + 4] + 0
  local s = redis.call('HMGET', K, 's', 'c', 'p')
  local start, cur, prev = s[1], s[2], s[3]
  if start then start = start + 0 end
  cur, prev = cur and cur + 0 or 0, prev and prev + 0 or 0
  local s0 = fdiv(nu, window) * window
  -- Shift to the window of now. A hit from a clock behind the one that
  -- stored the state counts in the stored window, as if at its start.
  local kept = false
  if not start or cur == 0 and prev == 0 then
    start, cur, prev = s0, 0, 0
  elseif s0 <= start then
    kept = true
  elseif s0 == start + window then
    -- (one assignment at a time: gopher-lua, in miniredis, assigns a
    -- multiple assignment's targets as it evaluates its values)
    prev = cur
    start, cur = s0, 0
  else
    start, cur, prev = s0, 0, 0
  end
  -- now - start is (du, nf); the elapsed part of the window (eu, ef) is
  -- that, or 0 for a clock behind start, and (lu, lf) is what is left.
  -- (Nanosecond parts here are in [0, 1000): a difference of two needs
  -- one borrow at most.)
  local du = nu - start
  local eu, ef = du, nf
  if du < 0 then eu, ef = 0, 0 end
  local lu, lf = window - eu, 0
  if ef ~= 0 then lu, lf = lu - 1, 1000 - ef end

  -- weighted adds floor(prev * left / window), both in nanoseconds, to cur
  local weighted = cur
  if prev ~= 0 then
    local q, r = muldiv(prev, lu, window)
    -- add floor((1000 r + prev lf) / (1000 window)), without overflow
    if prev < window then
      -- at most 1, and prev lf < 2^53 (limiter.MaxAmount): two passes
      local x, j = prev * lf, 1
      while true do
        local gap = j * window - r
        if gap > prev or x < 1000 * gap then break end
        q, j = q + 1, j + 1
      end
    else
      -- prev lf = g window + h with g = 1000 c + d, and 1000 r =
      -- g1 window + h1: the sum is (1000 c + d + g1) window + h + h1,
      -- with h + h1 < 2 window, so it adds c, and 1 more when
      -- d + g1 + (h + h1) / window reaches 1000
      local g, h = muldiv(prev, lf, window)
      local c = fdiv(g, 1000)
      local g1, h1 = muldiv(r, 1000, window)
      local k = g - 1000 * c + g1 - 1000
      q = q + c
      if k >= 0 or k == -1 and h + h1 >= window then q = q + 1 end
    end
    weighted = q + cur
  end
  local remaining = amount - weighted
  if remaining < 0 then remaining = 0 end
  if cost <= amount - weighted then
    if mode ~= 'p' then
      remaining, cur = remaining - cost, cur + cost
      if kept then
        redis.call('HINCRBY', K, 'c', A[b + 3])
      else
        redis.call('HSET', K, 's', start, 'c', string.format('%d', cur), 'p', string.format('%d', prev))
        redis.call('PEXPIRE', K, math.ceil((start + 2 * window - nu + 1) / 1000) + A[b + 5])
      end
    end
  end
  -- reset: start + 2 windows with a current count, + 1 with a previous one
  local ru, rf = 0, 0
  if cur > 0 or prev > 0 then
    ru = window - du
    if cur > 0 then ru = ru + window end
    if nf ~= 0 then ru, rf = ru - 1, 1000 - nf end
  end
  if cost <= amount - weighted then return remaining, ru, rf end
  if cost > amount then return -1 - remaining, ru, rf end

  local function norm(u, f)
    local c = fdiv(f, 1000)
    return u + c, f - c * 1000
  end
  -- span returns the largest span k <= window, in nanoseconds as a pair,
  -- with floor(count * k / window) <= room.
  local function span(count, room)
    if count == 0 or room + 1 > count then return window, 0 end
    local q, r = muldiv(window, room + 1, count)
    -- k = 1000 q + ceil(1000 r / count) - 1
    local ku, kf = norm(q, fdiv(1000 * r + count - 1, count) - 1)
    if window < ku or window == ku and 0 < kf then return window, 0 end
    return ku, kf
  end
  local tu, tf
  local room = amount - cur - cost
  if room >= 0 then
    -- later in this window: start + max(elapsed, window - span) - now
    local ku, kf = span(prev, room)
    local su, sf = norm(window - ku, -kf)
    if su < eu or su == eu and sf < ef then su, sf = eu, ef end
    tu, tf = norm(su - du, sf - nf)
  else
    -- in the next window: start + window + (window - span) - now
    local ku, kf = span(cur, amount - cost)
    tu, tf = norm(2 * window - ku - du, -kf - nf)
  end
  return -1 - remaining, ru, rf, tu, tf
end
`

// tokenBucketStep keeps the theoretical arrival time (TAT) in a string.
// Arguments: ARGV[b+4] and ARGV[b+5] the emission interval as a (u, f)
// pair (the capacity is amount intervals), ARGV[b+6] the grace in
// milliseconds.
const tokenBucketStep = `
-- norm carries a nanosecond part f outside [0, 1000) into the
-- microseconds u.
local function norm(u, f)
  local c = math.floor(f / 1000)
  f = f - c * 1000
  if f < 0 then c, f = c - 1, f + 1000 elseif f >= 1000 then c, f = c + 1, f - 1000 end
  return u + c, f
end
-- left returns the whole tokens in a bucket whose TAT is (u, f), with the
-- capacity (cu, cf) and the interval (iu, ifr):
-- floor((capacity - (tat - now)) / interval), at least 0.
local function left(u, f, cu, cf, iu, ifr)
  local xu, xf = cu - u + nu, cf - f + nf
  if xf < 0 then xu, xf = xu - 1, xf + 1000 elseif xf >= 1000 then xu, xf = xu + 1, xf - 1000 end
  if xu < 0 then return 0 end
  local x, i = xu * 1000 + xf, iu * 1000 + ifr
  local q = math.floor(x / i)
  if x < 4503599627370496 then
    -- in nanoseconds every product below is exact: correct the
    -- rounded quotient by one at most
    if q * i > x then return q - 1 end
    if (q + 1) * i <= x then return q + 1 end
    return q
  end
  local function le(au, af, bu, bf) return au < bu or au == bu and af <= bf end
  while q > 0 do
    local au, af = norm(q * iu, q * ifr)
    if le(au, af, xu, xf) then break end
    q = q - 1
  end
  while true do
    local au, af = norm((q + 1) * iu, (q + 1) * ifr)
    if not le(au, af, xu, xf) then break end
    q = q + 1
  end
  return q
end

local function step(K, b)
  local mode, amount, cost = A[b + 1], A[b + 2] + 0, A[b + 3] + 0
  local iu, ifr = A[b + 4] + 0, A[b + 5] + 0
  -- the capacity (cu, cf), amount intervals; a nanosecond part of 1000 or
  -- more carries into the microseconds
  local cu, cf = amount * iu, amount * ifr
  if cf >= 1000 then cu, cf = norm(cu, cf) end
  local tu, tf = nu, nf
  local v = redis.call('GET', K)
  if v then
    local u, f
    local i = string.find(v, ':', 1, true)
    if i then u, f = string.sub(v, 1, i - 1) + 0, string.sub(v, i + 1) + 0 else u, f = v + 0, 0 end
    if u > tu or u == tu and f > tf then tu, tf = u, f end
  end

  -- Every nanosecond part below is a difference or a sum of two parts in
  -- [0, 1000), so one carry normalizes it.
  local ru, rf = tu - nu, tf - nf
  if rf < 0 then ru, rf = ru - 1, rf + 1000 end
  if cost > amount then return -1 - left(tu, tf, cu, cf, iu, ifr), ru, rf end
  local xu, xf = tu + cost * iu, tf + cost * ifr
  if xf >= 1000 then xu, xf = norm(xu, xf) end
  local du, df = xu - nu, xf - nf
  if df < 0 then du, df = du - 1, df + 1000 end
  if du < cu or du == cu and df <= cf then
    if mode == 'p' then return left(tu, tf, cu, cf, iu, ifr), ru, rf end
    local x = xu
    if xf ~= 0 then x = string.format('%d:%d', xu, xf) end
    redis.call('SET', K, x, 'PX', math.ceil((xu - nu + 1) / 1000) + A[b + 6])
    return left(xu, xf, cu, cf, iu, ifr), du, df
  end
  local bu, bf = du - cu, df - cf
  if bf < 0 then bu, bf = bu - 1, bf + 1000 end
  return -1 - left(tu, tf, cu, cf, iu, ifr), ru, rf, bu, bf
end
`

// Argument counts of each algorithm's step, before the client clock's two.
const (
	fixedWindowArgs   = 5
	movingWindowArgs  = 5
	slidingWindowArgs = 5
	tokenBucketArgs   = 6
)

// clock sets (nu, nf): from the two arguments after the step's own at
// offset b when the client clock sends them, else from the server's TIME,
// read at most once per script (into t).
func clock(width int) string {
	w := strconv.Itoa(width)
	return `
  if #A > ` + w + ` * #KEYS then
    nu, nf = A[b + ` + w + ` + 1] + 0, A[b + ` + w + ` + 2] + 0
  elseif not t then
    t = redis.call('TIME')
    nu, nf = t[1] * 1000000 + t[2], 0
  end
`
}

// singleSource is the script deciding one hit with step.
func singleSource(step string, width int) string {
	return `local A = ARGV
local nu, nf, t
` + step + `
local b = 0
` + clock(width) + `
local x, ru, rf, tu, tf = step(KEYS[1], 0)
if tu then return {x, ru, rf, tu, tf} end
return {x, ru, rf}
`
}

// batchSource is the script deciding one hit per key with step, in order,
// until one is rejected: one Redis round trip and one atomic step for a
// request's limits. Each key's arguments follow the previous key's, all of
// the same width.
func batchSource(step string, width int) string {
	return `local A = ARGV
local nu, nf, t
` + step + `
local w = #A / #KEYS
local out = {}
for i = 1, #KEYS do
  local b = (i - 1) * w
` + clock(width) + `
  local x, ru, rf, tu, tf = step(KEYS[i], b)
  out[#out + 1] = x
  out[#out + 1] = ru
  out[#out + 1] = rf
  if x < 0 then
    if tu then
      out[#out + 1] = tu
      out[#out + 1] = tf
    end
    break
  end
end
return out
`
}

// The scripts, run with EVALSHA and loaded with EVAL on NOSCRIPT.
var (
	fixedWindowScript   = newScript(singleSource(fixedWindowStep, fixedWindowArgs))
	movingWindowScript  = newScript(singleSource(movingWindowStep, movingWindowArgs))
	slidingWindowScript = newScript(singleSource(slidingWindowStep, slidingWindowArgs))
	tokenBucketScript   = newScript(singleSource(tokenBucketStep, tokenBucketArgs))

	fixedWindowBatch   = newScript(batchSource(fixedWindowStep, fixedWindowArgs))
	movingWindowBatch  = newScript(batchSource(movingWindowStep, movingWindowArgs))
	slidingWindowBatch = newScript(batchSource(slidingWindowStep, slidingWindowArgs))
	tokenBucketBatch   = newScript(batchSource(tokenBucketStep, tokenBucketArgs))
)
