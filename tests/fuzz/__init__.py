"""Fuzz suite: hostile input through the real protocol code (issue #9, "make it provable").

Targets (tests/fuzz/test_protocol.py): websocket frames through `LongConnection`'s frame
handler (directly and over a real socket), `userOnline` answers, device params through
`sanitize_params`/`merge_params` per UIID, the model parsers, and REST answers through the real
`CoolkitClient` against a local server. Each must end every input in a result or a typed
`CoolkitError`, keep its invariants, and still work afterwards. tests/fuzz/test_coordinator.py
sends hostile frames over the simulator's app socket and serves hostile thing and home lists to
the real coordinator in Home Assistant, with a device of every UIID: nothing may escape into a
log line, every state must stay one Home Assistant can serialise, and afterwards a valid read
restores every device and a valid push still changes an entity.

CI runs a seeded slice as part of the test suite; `scripts/fuzz --count 100000` runs the full
one and prints the table (inputs, outcomes, unhandled exceptions by kind, wall time).

Adding a target:
1. add a module `tests/fuzz/test_<name>.py`;
2. in a test, `run = new_run("<name>", share)` (`share` of `EWELINK_FUZZ_COUNT`), and for
   `index in range(run.budget)` build the input from `Hostile(run.rng(index))` (`frame(h)`,
   `hostile_update(h, params)`, `h.mutate(...)`), then call `run.ok(...)`, `run.handled(err)`
   or `run.fail(index, err)`;
3. end with `run.finish()`, `assert not run.unhandled, run.verdict()` and a check that the
   system still works. A test needing Home Assistant requests `hass` and
   `enable_custom_integrations` explicitly (this package's conftest turns the autouse one off).
The summary table picks the run up by itself.
"""
