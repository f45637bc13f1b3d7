"""Chaos soak: Home Assistant with this integration against the simulator, under faults.

`engine.py` runs it: it builds a world in the simulator (accounts, each with one config entry
and its devices), lets the devices change state on their own and Home Assistant send commands
the whole time, injects faults drawn with a seed, and measures after each one how long every
entity takes to equal the simulator's truth again. It talks to Home Assistant through a small
interface (`HomeAssistantSide`) with two implementations: a real `hass` process (`scripts/soak`,
`scripts/soak.py`) and the test harness's `hass` in the same process (`inprocess.py`, used by
`test_soak.py`, the short version that runs in the test suite).

The measures (also in README "Development"):

- truth: the virtual devices' params and the cloud's online flag, read in-process.
- fresh at a tick (every 0.1 s): every enabled entity of the soak's entries shows what the
  oracle derives from the truth at that tick, except an entity whose expected value changed in
  the last `settle` (1 s): that change is in flight. The oracle maps relays, door, battery,
  metering, temperature and humidity params to the states Home Assistant shows (numbers compare
  within 1e-6); entities that read params the soak never changes must keep the state they had
  when the soak started. An entity is expected unavailable while its device is offline, unless
  the device runs on batteries or the entity is its connectivity sensor.
- injection time: when the soak injected the fault. All-clear time: when nothing of the fault
  is left, per kind (`FAULTS` below): the app socket is back (the simulator accepted a new
  `userOnline` of the entry's session) for faults that drop or kill the socket; the end of the
  fault for faults that do not (ack delay: plus the delay, when the last delayed command lands;
  device offline: when the last device is online again); the later of the two for REST faults,
  which also drop the socket so that a catch-up read is needed while REST fails.
- outage: all-clear time minus injection time.
- recovery: the first fresh tick at or after the all-clear time, minus the all-clear time (0 when
  nothing was stale). Not fresh within `recovery_limit` (60 s): not recovered.
- leftover mismatches: the entities still not fresh when a fault was not recovered, and at the
  end of the soak (devices and commands stopped, 60 s to settle).
- lost command: Home Assistant answered a command (`switch.turn_on/off` through its websocket
  API, as an automation or the UI does) with success, yet the device applied no command that
  set that channel to that value between the call and the answer. A command whose entity was
  unavailable at some point during the call is counted as skipped instead (Home Assistant skips
  unavailable entities and still answers success).
- reauth (rt expiry, takeover with revoked tokens): from the cloud's refusal of the refresh
  token (the first `POST /v2/user/refresh` after the injection) until Home Assistant lists the
  reauth flow. The soak then signs in again, as the user would, and the recovery is measured
  from the socket being back.
- tracebacks: log records at WARNING or above with a traceback in Home Assistant's log, from
  the entry's setup to the end of the soak. Warnings are listed by logger.
"""
