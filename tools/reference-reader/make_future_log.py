#!/usr/bin/env python3
"""Craft a log "from a future minor revision" of format 2 out of a v2 log.

    python3 make_future_log.py IN_V2_LOG OUT

Everything docs/log-format.md §6 allows a newer writer to add without a new
format version, so that a reader of revision 0 must read the known events
exactly as in the source log and report what it skipped:

* header: `format_minor` raised to FUTURE_MINOR, and bytes appended after
  every field this reader knows (a field the source's older revision lacks
  is written as its zero, as a newer writer would have written it);
* in the first block, after its first record: records of unknown event kinds
  (kind 40 with two body bytes — the spec's §9 example `03 28 FF FF` —,
  kind 128 as a 2-byte varint with a body, kind 63 with an empty body);
* in every syscall with data items: the first gets an item of unknown
  capture kind 3 inserted after its first item, the second an item of kind
  300 (a 2-byte varint) at its end; one known item gets bytes appended;
* bytes appended to the body of every 4th known event (and of each
  counters checkpoint);
* a frame of unknown tag 'X' (0x58) with codec 7 after the first block;
* the trailer: bytes appended.

All lengths, counts and CRCs are fixed, so the log is valid.  Blocks are
written with codec 1 as zstd frames made of raw (uncompressed) zstd blocks,
built here byte by byte: valid zstd, and the output does not depend on the
zstd library's version (same input → same bytes).  The trailer stays stored.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recorder_log as R  # noqa: E402

FUTURE_MINOR = 1000
HEADER_APPENDED = R.enc_str("future header field") + R.enc_u(42)
TRAILER_APPENDED = R.enc_u(7) + R.enc_u(1 << 40)
BODY_APPENDED = R.enc_u(42) + b"\x00\x01" + R.enc_str("appended")
ITEM_APPENDED = R.enc_u(5) + R.enc_str("item field")
UNKNOWN_RECORDS = [
    bytes.fromhex("28 ff ff"),                # kind 40, body FF FF (§9)
    R.enc_u(128) + bytes.fromhex("01 02 03"),  # kind 128: varint 80 01
    R.enc_u(63),                              # kind 63, empty body
]
# data items of unknown kinds: arg 1, kind, then a layout this reader cannot know
UNKNOWN_ITEMS = [
    b"\x01" + R.enc_u(3) + bytes.fromhex("10 20 30 40 50"),
    b"\x02" + R.enc_u(300) + R.enc_str("a new kind of item"),
]
UNKNOWN_FRAME = (0x58, 7, b"a frame of a tag from the future, codec 7")


def zstd_raw_frame(data):
    """A zstd frame (RFC 8878) of raw blocks holding `data`, with its content size."""
    # Frame_Header_Descriptor: FCS_Field_Size flag 3 (8 bytes), Single_Segment 1,
    # no checksum, no dictionary
    out = bytearray(R.ZSTD_MAGIC) + bytes((0xE0,)) + len(data).to_bytes(8, "little")
    block_max = 128 * 1024
    pos = 0
    while True:
        chunk = data[pos:pos + block_max]
        pos += len(chunk)
        last = 1 if pos >= len(data) else 0
        hdr = last | (0 << 1) | (len(chunk) << 3)   # Block_Type 0: Raw_Block
        out += hdr.to_bytes(3, "little") + chunk
        if last:
            return bytes(out)


def syscall_parts(ev):
    """A decoded syscall → (its encoding up to the data count, [encoded items])."""
    whole = R.encode_event(ev, 2)
    items = [R.encode_capture(c, 2) for c in ev["data"]]
    tail = R.encode_varint(len(items)) + b"".join(items)
    assert whole.endswith(tail)
    return whole[:len(whole) - len(tail)], items


def decode_one(rec):
    ctx = R.Skips()
    ev = R.decode_record(rec, 0, len(rec), 2, ctx)
    return ev, ctx.skipped_events or ctx.skipped_items


def future_records(records, state):
    """A block's records (kind and body bytes) → the future revision's records."""
    out = []
    for rec in records:
        ev, skipped = decode_one(rec)
        if ev is None or skipped:
            raise SystemExit("make_future_log: the input already has unknown kinds")
        if R.encode_event(ev, 2) != rec:
            raise SystemExit("make_future_log: a record does not re-encode to the same bytes "
                             "(input not written by a revision 0 writer?)")
        new = rec
        if ev["type"] == "syscall" and ev["data"]:
            prefix, items = syscall_parts(ev)
            n = state["syscalls_with_data"]
            state["syscalls_with_data"] += 1
            if n == 0:
                items.insert(1, R.enc_bytes(UNKNOWN_ITEMS[0]))
            elif n == 1:
                items.append(R.enc_bytes(UNKNOWN_ITEMS[1]))
            elif n == 2:
                body = R.encode_capture(ev["data"][0], 1) + ITEM_APPENDED
                items[0] = R.enc_bytes(body)
            new = prefix + R.encode_varint(len(items)) + b"".join(items)
        state["known"] += 1
        if ev["type"] == "counters" or state["known"] % 4 == 0:
            new += BODY_APPENDED
        out.append(new)
        if not state["unknown_done"]:
            out.extend(UNKNOWN_RECORDS)
            state["unknown_done"] = True
    return out


def make_future(data):
    head, frames = R.split_log(data)
    if int.from_bytes(head[8:10], "little") != 2:
        raise SystemExit("make_future_log: the input must be a format version 2 log")
    if not frames or frames[-1]["tag"] != R.TAG_TRAILER:
        raise SystemExit("make_future_log: the input must end with a trailer")
    hbytes = head[16:-4]
    header = R.decode_header(hbytes, 0, len(hbytes))
    known = R.encode_header(header)
    # A header of an older revision ends before this reader's last fields,
    # which it reads as zeros (§5.1): they re-encode as those zeros.
    padded = hbytes + bytes(max(0, len(known) - len(hbytes)))
    if padded[:len(known)] != known:
        raise SystemExit("make_future_log: the header does not re-encode to the same bytes")
    header["format_minor"] = FUTURE_MINOR
    new_header = R.encode_header(header) + hbytes[len(known):] + HEADER_APPENDED
    out = bytearray(R.encode_prefix(new_header, 2, 0))
    state = {"known": 0, "syscalls_with_data": 0, "unknown_done": False}
    blocks = 0
    for fr in frames:
        if fr["tag"] == R.TAG_BLOCK:
            recs = future_records(R.split_records(fr["data"]), state)
            block = b"".join(R.encode_record(r) for r in recs)
            out += R.encode_frame(R.TAG_BLOCK, block, codec=R.CODEC_ZSTD, record_count=len(recs),
                                  min_ts=fr["min_ts"], max_ts=fr["max_ts"],
                                  payload=zstd_raw_frame(block))
            blocks += 1
            if blocks == 1:
                tag, codec, body = UNKNOWN_FRAME
                out += R.encode_frame(tag, body, codec=codec, payload=body)
        elif fr["tag"] == R.TAG_TRAILER:
            out += R.encode_frame(R.TAG_TRAILER, fr["data"] + TRAILER_APPENDED)
        else:
            raise SystemExit("make_future_log: the input already has a frame of unknown tag")
    if state["syscalls_with_data"] < 2:
        raise SystemExit("make_future_log: the input needs at least 2 syscalls with data items")
    return bytes(out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: make_future_log.py IN_V2_LOG OUT", file=sys.stderr)
        return 2
    with open(argv[0], "rb") as f:
        data = f.read()
    out = make_future(data)
    with open(argv[1], "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
