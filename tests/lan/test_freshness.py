"""seq and duplicate handling (Q8, Q9): newer, same, duplicate IV, stale cache, reboot."""

from __future__ import annotations

from custom_components.ewelink.lan import (
    Announcement,
    Freshness,
    SeqTracker,
    encrypt_params,
    parse_announcement,
)

from .vectors import KEY_A

NAME = "eWeLink_1000abcdef._ewelink._tcp.local."


def encrypted(
    seq: int, params: dict[str, object] | None = None, *, sub: str | None = None
) -> Announcement:
    data, iv = encrypt_params(params or {"switch": "on"}, KEY_A)
    props = {
        b"seq": str(seq).encode(),
        b"encrypt": b"true",
        b"iv": iv.encode(),
        b"data1": data.encode(),
    }
    if sub:
        props[b"id"] = sub.encode()
    ann = parse_announcement(NAME, ["10.0.0.2"], 8081, props)
    assert ann is not None
    return ann


def plain(seq: int | None, text: str = '{"switch":"on"}') -> Announcement:
    props = {b"data1": text.encode()}
    if seq is not None:
        props[b"seq"] = str(seq).encode()
    ann = parse_announcement(NAME, ["10.0.0.2"], 8081, props)
    assert ann is not None
    return ann


def test_first_then_newer() -> None:
    tracker = SeqTracker()
    assert tracker.check(encrypted(5)) is Freshness.NEW
    assert tracker.check(encrypted(6)) is Freshness.NEWER
    assert tracker.check(encrypted(9)) is Freshness.NEWER
    assert tracker.last_seq("1000abcdef") == 9
    assert Freshness.NEW.is_fresh
    assert Freshness.NEWER.is_fresh
    assert Freshness.REBOOT.is_fresh


def test_duplicate_iv_is_not_fresh() -> None:
    """The same multicast twice (same IV, HB's `lastIV`)."""
    tracker = SeqTracker()
    first = encrypted(5)
    assert tracker.check(first) is Freshness.NEW
    assert tracker.check(first) is Freshness.DUPLICATE
    assert not Freshness.DUPLICATE.is_fresh


def test_stale_record_is_not_fresh() -> None:
    """A browser re-delivers an older record (lower seq, IV seen before)."""
    tracker = SeqTracker()
    old = encrypted(5, {"switch": "off"})
    assert tracker.check(old) is Freshness.NEW
    assert tracker.check(encrypted(6, {"switch": "on"})) is Freshness.NEWER
    assert tracker.check(old) is Freshness.STALE
    assert tracker.last_seq("1000abcdef") == 6
    assert not Freshness.STALE.is_fresh


def test_same_seq_new_iv_is_the_same_state() -> None:
    """Same seq re-encrypted: merged (a reboot may land on the same count), not a change (Q8)."""
    tracker = SeqTracker()
    tracker.check(encrypted(5))
    assert tracker.check(encrypted(5)) is Freshness.SAME
    assert Freshness.SAME.is_fresh
    assert not Freshness.SAME.is_change
    assert not Freshness.NEW.is_change
    assert Freshness.NEWER.is_change
    assert Freshness.REBOOT.is_change
    assert not Freshness.DUPLICATE.is_change


def test_reboot_restarts_the_counter() -> None:
    """A lower seq never seen before: the device rebooted; pre-reboot records stay stale."""
    tracker = SeqTracker()
    before = encrypted(40)
    tracker.check(encrypted(39))
    tracker.check(before)
    assert tracker.check(encrypted(1)) is Freshness.REBOOT
    assert tracker.last_seq("1000abcdef") == 1
    assert tracker.check(before) is Freshness.STALE  # higher seq, but an old record
    assert tracker.check(encrypted(2)) is Freshness.NEWER


def test_plaintext_fingerprint_is_seq_and_data() -> None:
    tracker = SeqTracker()
    assert tracker.check(plain(3)) is Freshness.NEW
    assert tracker.check(plain(3)) is Freshness.DUPLICATE
    assert tracker.check(plain(4, '{"switch":"off"}')) is Freshness.NEWER
    assert tracker.check(plain(3)) is Freshness.STALE
    assert tracker.check(plain(1, '{"switch":"off"}')) is Freshness.REBOOT


def test_no_seq() -> None:
    tracker = SeqTracker()
    assert tracker.check(plain(None)) is Freshness.NEW
    assert tracker.check(plain(None)) is Freshness.DUPLICATE
    assert tracker.check(plain(None, '{"switch":"off"}')) is Freshness.NEWER
    assert tracker.last_seq("1000abcdef") is None


def test_sub_units_are_tracked_apart() -> None:
    tracker = SeqTracker()
    assert tracker.check(encrypted(7, sub="1000000001")) is Freshness.NEW
    assert tracker.check(encrypted(3, sub="1000000002")) is Freshness.NEW
    assert tracker.check(encrypted(4)) is Freshness.NEW
    assert tracker.last_seq("1000abcdef", "1000000001") == 7
    assert tracker.last_seq("1000abcdef", "1000000002") == 3
    tracker.forget("1000abcdef")
    assert tracker.last_seq("1000abcdef", "1000000001") is None
    assert tracker.last_seq("1000abcdef") is None


def test_reply_with_state_makes_the_same_seq_no_change() -> None:
    tracker = SeqTracker()
    tracker.check(encrypted(10))
    tracker.note_reply("1000abcdef", 11)
    assert tracker.check(encrypted(11)) is Freshness.SAME
    tracker.note_reply("1000abcdef", None)
    tracker.note_reply("1000abcdef", 5)  # never lowers
    assert tracker.last_seq("1000abcdef") == 11
    assert tracker.check(encrypted(12)) is Freshness.NEWER


def test_reply_before_any_announcement() -> None:
    tracker = SeqTracker()
    tracker.note_reply("1000abcdef", 3)
    assert tracker.last_seq("1000abcdef") == 3
    assert tracker.check(encrypted(4)) is Freshness.NEWER


def test_history_is_bounded() -> None:
    tracker = SeqTracker()
    first = encrypted(1)
    tracker.check(first)
    for seq in range(2, 40):
        tracker.check(encrypted(seq))
    # Long forgotten: a lower seq with an IV no longer remembered reads as a reboot.
    assert tracker.check(first) is Freshness.REBOOT
