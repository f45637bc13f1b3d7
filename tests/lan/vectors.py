"""The test vectors of lan-protocol.md §3 (A and B from SonoffLAN's tests, C computed)."""

from __future__ import annotations

KEY_A = "9b0810bc-557a-406c-8266-614767890531"
MD5_A = "69075a9485bad08a1ec6dd6bf8c5e1fa"
IV_A = "MTA4MDc1MTQ5NzE5ODE2Ng=="
DATA_A = "D85ho6GLI5uFX2b1+vohUIb+Xt99f55wxsBsNhqpPQdQ/WNc3ZTlCi1UVFiFU5cnaCPjvXPG6pqfHqXdtCO2fA=="
PLAIN_A = b'{"switches": [{"outlet": 0, "switch": "off"}]}'

KEY_B = "64271b79-89f6-4d18-8318-7d751faacd13"
MD5_B = "c2194d5d5a141e38885964769a9ccc12"
IV_B = "3PgYPjEuE4qCoZOTsPE2xg=="
DATA_B = "t9YKDAK3nnURqivGN0evtaS+Yj4M6b6NUV+ptJlMTOQ="
PLAIN_B = b'{"switch": "on"}'

KEY_C = KEY_A
IV_C = "MDEyMzQ1Njc4OWFiY2RlZg=="
DATA_C = "FoCfJXJpEHvSovQdBrBgHQ=="
PLAIN_C = b'{"switch":"on"}'
