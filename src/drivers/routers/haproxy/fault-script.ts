/**
 * The Lua script a managed haproxy loads (`lua-load-per-thread`, written beside haproxy.cfg) for
 * the three things drills' faults need that haproxy.cfg rules cannot do in HAProxy 2.6. The rules
 * (fault-map.ts) still pick every faulted request from the runtime map, by haproxy's own clock;
 * the script only acts on what they picked, so it is called for faulted requests and, while a
 * cohort fault is held, once per request to hash the user.
 */

/** The script's file name in haproxy's folder. */
export const FAULT_SCRIPT_FILE = 'faults.lua';

export const FAULT_SCRIPT = `-- Written by Sluice (haproxy router, managed mode): drills' faults. Edits are overwritten.
-- haproxy.cfg picks the faulted requests from the runtime map faults.map; these actions act on them.

-- Request phase, while a cohort fault is held: the user's cohort point 0..9999, from the header
-- ("h=NAME") or cookie ("c=NAME") in txn.sluice_cohort_by. The hash is the built-in proxy's
-- stickyPoint (FNV-1a over the value's bytes, then murmur3's finaliser), so a cohort holds the
-- same users behind either router. A request without the header or cookie is in no cohort.
core.register_action('sluice_cohort', { 'http-req' }, function(txn)
  local by = txn:get_var('txn.sluice_cohort_by')
  local name = by:sub(3)
  local value
  if by:sub(1, 1) == 'h' then
    value = txn.f:req_fhdr(name, 1)
  else
    value = txn.f:req_cook(name)
    if value == '' then value = nil end
  end
  if value == nil then return end
  local h = 0x811c9dc5
  for i = 1, #value do h = ((h ~ value:byte(i)) * 0x01000193) & 0xffffffff end
  h = ((h ~ (h >> 16)) * 0x85ebca6b) & 0xffffffff
  h = ((h ~ (h >> 13)) * 0xc2b2ae35) & 0xffffffff
  h = h ~ (h >> 16)
  txn:set_var('txn.sluice_cohort_point', h * 10000 // 4294967296)
end)

-- Response phase, a latency fault: hold the answer txn.sluice_fault_ms before it is sent.
-- (HAProxy 2.6 has no wait action; core.msleep yields, so haproxy serves others meanwhile.)
core.register_action('sluice_delay', { 'http-res' }, function(txn)
  core.msleep(tonumber(txn:get_var('txn.sluice_fault_ms')) or 0)
end)

-- Response phase, a reset fault: close the client's connection, no answer sent.
core.register_action('sluice_close', { 'http-res' }, function(txn)
  txn:done()
end)
`;
