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
// which parses it twice.
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
local function step(K, b)
  local mode, amount, cost, window = A[b + 1], A[b + 2] + 0, A[b + 3] + 0, A[b + 4] + 0
  local function instant(i)
    local v = redis.call('LINDEX', K, i)
    local j = string.find(v, ':', 1, true)
    if j then return string.sub(v, 1, j - 1) + 0, string.sub(v, j + 1) + 0 end
    return v + 0, 0
  end
  local function lt(au, af, bu, bf) return au < bu or au == bu and af < bf end
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
  local function sub(au, af, bu, bf)
    local u, f = au - bu, af - bf
    if f < 0 then return u - 1, f + 1000 end
    return u, f
  end
  -- An element at t is live while t > now - window.
  local cu, cf = nu - window, nf
  local len = redis.call('LLEN', K)
  local n = len
  if len > 0 and not lt(cu, cf, instant(-1)) then
    n = count(len, cu, cf)
    -- only an allowed hit drops them: for a rejected one they still count
    -- at the instant of a hit from a lagging clock
    if mode ~= 'p' and cost <= amount - n then
      if n == 0 then redis.call('DEL', K) else redis.call('LTRIM', K, 0, n - 1) end
      len = n
    end
  end
  local wu, wf
  if n > 0 then wu, wf = instant(0) end
  if cost <= amount - n and mode ~= 'p' then
    local at = nu
    if nf ~= 0 then at = string.format('%d:%d', nu, nf) end
    if n == 0 or not lt(nu, nf, wu, wf) then
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
      local p = count(len, nu, nf)
      if p == len then
        for _ = 1, cost do redis.call('RPUSH', K, at) end
      else
        local pivot = redis.call('LINDEX', K, p)
        for _ = 1, cost do redis.call('LINSERT', K, 'BEFORE', pivot, at) end
      end
    end
    redis.call('PEXPIRE', K, math.ceil((wu + window - nu + 1) / 1000) + A[b + 5])
    local ru, rf = sub(wu + window, wf, nu, nf)
    return amount - n - cost, ru, rf
  end
  local remaining = amount - n
  if remaining < 0 then remaining = 0 end
  local ru, rf = 0, 0
  if n > 0 then ru, rf = sub(wu + window, wf, nu, nf) end
  if cost <= amount - n then return remaining, ru, rf end
  if cost > amount then return -1 - remaining, ru, rf end
  -- the unit that must leave the window before cost fits
  local eu, ef = instant(amount - cost)
  local tu, tf = sub(eu + window, ef, nu, nf)
  return -1 - remaining, ru, rf, tu, tf
end
`

// slidingWindowStep keeps a hash: s, the start of the current window (a
// multiple of the window since the Unix epoch, in microseconds), c and p,
// the counts of the current and the previous window. Arguments: ARGV[b+4]
// the window in microseconds, ARGV[b+5] the grace in milliseconds.
const slidingWindowStep = `
local function step(K, b)
  local mode, amount, cost, window = A[b + 1], A[b + 2] + 0, A[b + 3] + 0, A[b + 4] + 0
  -- fdiv returns floor(a / b) for integers with b > 0, corrected for rounding.
  local function fdiv(a, b)
    local q = math.floor(a / b)
    local r = a - q * b
    if r < 0 then q = q - 1 elseif r >= b then q = q + 1 end
    return q
  end
  local function norm(u, f)
    local c = fdiv(f, 1000)
    return u + c, f - c * 1000
  end
  -- muldiv returns q, r with a*b = q*c + r and 0 <= r < c, for non-negative
  -- integers a, b <= c, c > 0, exactly even when a*b exceeds 2^53: binary
  -- long multiplication keeps every intermediate value below 2c.
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
  local du = nu - start
  local eu, ef = du, nf
  if du < 0 then eu, ef = 0, 0 end
  local lu, lf = norm(window - eu, -ef)

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
    if window < ku or window == ku and 0 < kf then return window, 0 end
    return ku, kf
  end

  local weighted = weight(prev) + cur
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
  if cur > 0 then
    ru, rf = norm(2 * window - du, -nf)
  elseif prev > 0 then
    ru, rf = norm(window - du, -nf)
  end
  if cost <= amount - weighted then return remaining, ru, rf end
  if cost > amount then return -1 - remaining, ru, rf end
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
local function step(K, b)
  local mode, amount, cost = A[b + 1], A[b + 2] + 0, A[b + 3] + 0
  local iu, ifr = A[b + 4] + 0, A[b + 5] + 0
  local function norm(u, f)
    local c = math.floor(f / 1000)
    f = f - c * 1000
    if f < 0 then c, f = c - 1, f + 1000 elseif f >= 1000 then c, f = c + 1, f - 1000 end
    return u + c, f
  end
  local function le(au, af, bu, bf) return au < bu or au == bu and af <= bf end
  local cu, cf = norm(amount * iu, amount * ifr)
  local tu, tf = nu, nf
  local v = redis.call('GET', K)
  if v then
    local u, f
    local i = string.find(v, ':', 1, true)
    if i then u, f = string.sub(v, 1, i - 1) + 0, string.sub(v, i + 1) + 0 else u, f = v + 0, 0 end
    if u and not le(u, f, tu, tf) then tu, tf = u, f end
  end

  -- left returns the whole tokens in a bucket whose TAT is (u, f):
  -- floor((capacity - (tat - now)) / interval), at least 0.
  local function left(u, f)
    local xu, xf = norm(cu - u + nu, cf - f + nf)
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

  local ru, rf = norm(tu - nu, tf - nf)
  if cost > amount then return -1 - left(tu, tf), ru, rf end
  local xu, xf = norm(tu + cost * iu, tf + cost * ifr)
  local du, df = norm(xu - nu, xf - nf)
  if le(du, df, cu, cf) then
    if mode == 'p' then return left(tu, tf), ru, rf end
    local x = xu
    if xf ~= 0 then x = string.format('%d:%d', xu, xf) end
    redis.call('SET', K, x, 'PX', math.ceil((xu - nu + 1) / 1000) + A[b + 6])
    return left(xu, xf), du, df
  end
  local bu, bf = norm(du - cu, df - cf)
  return -1 - left(tu, tf), ru, rf, bu, bf
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
