package dev.whack.bench;

/**
 * The Lua script that makes Redis do what a Whack profile update does (P2): apply the update to the
 * profile's hash, re-evaluate the 50 segments of {@link ProfileWorkload#segments()} (hand
 * translated, same thresholds and windows) and move the key between the segment sets, atomically.
 * The same script preloads the profiles (an update of every attribute of a key that is not there
 * yet), so the initial segment sets come from the same code as the moves.
 *
 * <p>Written the way a careful Redis user would: one {@code HGETALL} and one {@code HSET} per
 * update; only the segments that read an attribute or event the update touches are evaluated (as
 * Whack does), in Lua on the profile read once, before and after the change; {@code SADD}/{@code
 * SREM} only for the segments whose answer changed. What it leaves out, in Redis's favour: Whack
 * also re-evaluates time-dependent segments when time passes (a timer queue), drops event buckets
 * older than its retention, validates types and parses the update as JSON; here the load generator
 * translates each update into arguments once, before the run.
 *
 * <p>The whole script is printed into docs/benchmarks.md by {@code scripts/bench} ({@code whack
 * bench --print-script}) so the comparison can be checked.
 */
final class RedisProfileScript {
  private RedisProfileScript() {}

  /** The script, as loaded with SCRIPT LOAD and run with EVALSHA. */
  public static final String LUA =
      """
      -- Whack's P2 work done by Redis: apply one profile update, re-evaluate the segments of
      -- ProfileWorkload.segments() that read what the update changed, and move the profile between
      -- the segment sets, atomically.
      --
      -- KEYS[1]   the profile hash, e.g. user:42
      -- ARGV[1]   now, ms since the epoch: events count on this UTC day; now() in the segments
      -- ARGV[2..] operations, three arguments each, applied in order:
      --   s <attr> <string>    set a string attribute
      --   n <attr> <number>    set a number (timestamps as ms since the epoch)
      --   b <attr> true|false  set a boolean
      --   i <attr> <delta>     increment a number
      --   a <attr> <element>   add to a string set      r <attr> <element>  remove from it
      --   e <event> <value>    an event now, <value> "" when it has none
      --
      -- Layout: one hash per profile. Attributes are fields; a string set is one field written
      -- ",vip,trial,"; an event series is per-day fields <event>:<day> (count), <event>:<day>:s
      -- (sum of values) and <event>:<day>:q (sum of squares), <day> = days since 1970-01-01 UTC.
      -- Segment sets are seg:<name>. Returns the number of segment moves.
      local find, match, sub, tonumber, tostring = string.find, string.match, string.sub, tonumber, tostring
      local key = KEYS[1]
      local now = tonumber(ARGV[1])
      local DAY = 86400000
      local RETENTION_DAYS = 60 -- Whack's default event retention: the days decayed() sums over
      local today = math.floor(now / DAY)

      local NAMES = {
        'country_DK', 'country_SE', 'country_NO', 'country_DE', 'country_FR',       --  1-5
        'country_ES', 'country_IT', 'country_NL', 'country_BE', 'country_PL',       --  6-10
        'age_0', 'age_1', 'age_2', 'age_3', 'age_4',                                 -- 11-15
        'tag_vip', 'tag_newsletter', 'tag_trial', 'tag_churn_risk', 'tag_mobile',    -- 16-20
        'tag_desktop', 'tag_b2b', 'tag_student', 'tag_family', 'tag_outdoor',        -- 21-25
        'buyers_0', 'buyers_1', 'buyers_2', 'buyers_3', 'buyers_4',                  -- 26-30
        'spenders_0', 'spenders_1', 'spenders_2',                                    -- 31-33
        'active_7d', 'active_1d', 'dormant', 'engaged_viewers', 'hot_viewers',       -- 34-38
        'dk_vip', 'nordic', 'young_mobile', 'pro_plans', 'newsletter_buyers',        -- 39-43
        'cart_abandoners', 'high_score', 'has_region', 'veterans', 'not_trial',      -- 44-48
        'big_spend_attr', 'visitors_100',                                            -- 49-50
      }

      -- Read the profile once: attributes, and event buckets per event and day.
      local flat = redis.call('HGETALL', key)
      local attrs, events = {}, {}
      for i = 1, #flat, 2 do
        local field, value = flat[i], flat[i + 1]
        if not find(field, ':', 1, true) then
          attrs[field] = value
        else
          local event, day, part = match(field, '^([^:]+):(%d+):?(%a?)$')
          day = tonumber(day)
          local series = events[event]
          if not series then series = {}; events[event] = series end
          local bucket = series[day]
          if not bucket then bucket = {0, 0, 0}; series[day] = bucket end
          if part == '' then bucket[1] = tonumber(value)
          elseif part == 's' then bucket[2] = tonumber(value)
          else bucket[3] = tonumber(value) end
        end
      end

      local function num(v) return v and tonumber(v) end
      local function has(set, element) -- element written ',vip,'
        return set ~= nil and find(set, element, 1, true) ~= nil
      end
      -- count(e, Nd) and sum(e, Nd): the last `days` UTC days, today included.
      local function window(series, days)
        local count, sum = 0, 0
        if series then
          for day, b in pairs(series) do
            if day > today - days and day <= today then count = count + b[1]; sum = sum + b[2] end
          end
        end
        return count, sum
      end
      -- decayed(e, H): sum over the kept days of count * 2^(-age / H), age in whole days.
      local function decayed(series, half_life_days)
        local score = 0
        if series then
          for day, b in pairs(series) do
            local age = today - day
            if age >= 0 and age < RETENTION_DAYS then score = score + b[1] * 2 ^ (-age / half_life_days) end
          end
        end
        return score
      end

      -- The segments that read an input in `t` (attribute or event names; nil: all 50), evaluated on
      -- the profile as it is now: m[i] is true when the profile is in NAMES[i]. As in Whack, a
      -- comparison with a missing attribute is false, and only segments reading something the
      -- update touched are looked at.
      local function evaluate(t)
        local m, a, all = {}, attrs, t == nil
        t = t or {}
        if all or t.country then
          local c = a.country
          m[1] = c == 'DK' -- country_DK: country == "DK"
          m[2] = c == 'SE'
          m[3] = c == 'NO'
          m[4] = c == 'DE'
          m[5] = c == 'FR'
          m[6] = c == 'ES'
          m[7] = c == 'IT'
          m[8] = c == 'NL'
          m[9] = c == 'BE'
          m[10] = c == 'PL'
          m[40] = c == 'DK' or c == 'SE' or c == 'NO' -- nordic: country in ["DK", "SE", "NO"]
        end
        if all or t.age then
          local age = num(a.age)
          m[11] = age ~= nil and age >= 18 and age < 28 -- age_0: age >= 18 and age < 28
          m[12] = age ~= nil and age >= 28 and age < 38
          m[13] = age ~= nil and age >= 38 and age < 48
          m[14] = age ~= nil and age >= 48 and age < 58
          m[15] = age ~= nil and age >= 58 and age < 68
        end
        if all or t.tags then
          local tags = a.tags
          m[16] = has(tags, ',vip,') -- tag_vip: "vip" in tags
          m[17] = has(tags, ',newsletter,')
          m[18] = has(tags, ',trial,')
          m[19] = has(tags, ',churn-risk,')
          m[20] = has(tags, ',mobile,')
          m[21] = has(tags, ',desktop,')
          m[22] = has(tags, ',b2b,')
          m[23] = has(tags, ',student,')
          m[24] = has(tags, ',family,')
          m[25] = has(tags, ',outdoor,')
          m[48] = not has(tags, ',trial,') -- not_trial: not ("trial" in tags)
        end
        if all or t.purchase then
          local buys30, spent30 = window(events.purchase, 30)
          m[26] = buys30 >= 1 -- buyers_0: count(purchase, 30d) >= 1
          m[27] = buys30 >= 2
          m[28] = buys30 >= 3
          m[29] = buys30 >= 4
          m[30] = buys30 >= 5
          m[31] = spent30 > 100 -- spenders_0: sum(purchase, 30d) > 100
          m[32] = spent30 > 200
          m[33] = spent30 > 300
        end
        if all or t.last_seen then
          local last_seen = num(a.last_seen)
          m[34] = last_seen ~= nil and last_seen > now - 7 * DAY -- active_7d: last_seen > now() - 7d
          m[35] = last_seen ~= nil and last_seen > now - DAY -- active_1d: last_seen > now() - 1d
          m[36] = last_seen ~= nil and last_seen < now - 21 * DAY -- dormant: last_seen < now() - 21d
        end
        if all or t.view then
          m[37] = decayed(events.view, 7) > 3 -- engaged_viewers: decayed(view, 7d) > 3
          m[38] = window(events.view, 7) >= 5 -- hot_viewers: count(view, 7d) >= 5
        end
        if all or t.country or t.tags then
          m[39] = a.country == 'DK' and has(a.tags, ',vip,') -- dk_vip: country == "DK" and "vip" in tags
        end
        if all or t.age or t.device then
          local age, device = num(a.age), a.device -- young_mobile: age < 25 and device != "web"
          m[41] = age ~= nil and age < 25 and device ~= nil and device ~= 'web'
        end
        if all or t.plan then
          m[42] = a.plan == 'pro' or a.plan == 'plus' -- pro_plans: plan == "pro" or plan == "plus"
        end
        if all or t.newsletter or t.purchase then -- newsletter_buyers: newsletter and count(purchase, 30d) >= 1
          m[43] = a.newsletter == 'true' and window(events.purchase, 30) >= 1
        end
        if all or t.cart_items or t.purchase then -- cart_abandoners: cart_items > 3 and count(purchase, 7d) == 0
          local cart = num(a.cart_items)
          m[44] = cart ~= nil and cart > 3 and window(events.purchase, 7) == 0
        end
        if all or t.score then
          local score = num(a.score)
          m[45] = score ~= nil and score > 90.0 -- high_score: score > 90.0
        end
        if all or t.region then
          m[46] = a.region ~= nil -- has_region: exists(region)
        end
        if all or t.signup then
          local signup = num(a.signup)
          m[47] = signup ~= nil and signup < now - 365 * DAY -- veterans: signup < now() - 365d
        end
        if all or t.spend then
          local spend = num(a.spend)
          m[49] = spend ~= nil and spend > 800.0 -- big_spend_attr: spend > 800.0
        end
        if all or t.visits then
          local visits = num(a.visits)
          m[50] = visits ~= nil and visits >= 100 -- visitors_100: visits >= 100
        end
        return m
      end

      -- What the operations touch, so that only the segments reading it are evaluated.
      local touched = {}
      for i = 2, #ARGV, 3 do touched[ARGV[i + 1]] = true end
      local existed = #flat > 0
      local before = existed and evaluate(touched) or {} -- a profile that was not there is in no segment

      -- Apply the operations to the profile read above, collecting the fields to write.
      local changed = {}
      for i = 2, #ARGV, 3 do
        local op, name, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
        if op == 's' or op == 'n' or op == 'b' then
          attrs[name] = v; changed[name] = v
        elseif op == 'i' then
          v = tostring((tonumber(attrs[name]) or 0) + tonumber(v))
          attrs[name] = v; changed[name] = v
        elseif op == 'a' then
          local set = attrs[name] or ','
          if not find(set, ',' .. v .. ',', 1, true) then set = set .. v .. ',' end
          attrs[name] = set; changed[name] = set
        elseif op == 'r' then
          local set = attrs[name]
          local at = set and find(set, ',' .. v .. ',', 1, true)
          if at then
            set = sub(set, 1, at) .. sub(set, at + #v + 2)
            attrs[name] = set; changed[name] = set
          end
        elseif op == 'e' then
          local series = events[name]
          if not series then series = {}; events[name] = series end
          local bucket = series[today]
          if not bucket then bucket = {0, 0, 0}; series[today] = bucket end
          bucket[1] = bucket[1] + 1
          changed[name .. ':' .. today] = bucket[1]
          if v ~= '' then
            local x = tonumber(v)
            bucket[2] = bucket[2] + x; bucket[3] = bucket[3] + x * x
            changed[name .. ':' .. today .. ':s'] = bucket[2]
            changed[name .. ':' .. today .. ':q'] = bucket[3]
          end
        else
          return redis.error_reply('unknown operation ' .. tostring(op))
        end
      end
      local args = {}
      for field, value in pairs(changed) do args[#args + 1] = field; args[#args + 1] = value end
      if #args > 0 then redis.call('HSET', key, unpack(args)) end

      -- Re-evaluate and move the key between the segment sets whose answer changed.
      local after = existed and evaluate(touched) or evaluate(nil)
      local moves = 0
      for i, is_in in pairs(after) do
        if is_in ~= (before[i] == true) then
          redis.call(is_in and 'SADD' or 'SREM', 'seg:' .. NAMES[i], key)
          moves = moves + 1
        end
      end
      return moves
      """;
}
