#!/usr/bin/env python3
"""Crafted edge cases of the format, each compared between both readers.

    python3 edge_cases.py --recorder PATH [--out DIR]

Each case is a small log built in code around one rule of docs/log-format.md
(or one place where it is silent).  Like compare.py, it prints `ok` when
both readers agree (or differ only by a known disagreement, named), and
`DISAGREE` for the cases listed in EXPECTED_DISAGREEMENTS: there the
recorder does something the spec does not allow, and the case stays here
until one of them is fixed.  Exit status 1 on any other difference, or when
an expected disagreement has gone away (then update the list).
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recorder_log as R  # noqa: E402
import compare  # noqa: E402
from recorder_log import (TAG_BLOCK, TAG_TRAILER, MAGIC, MAX_HEADER, MAX_UNCOMPRESSED,  # noqa: E402
                          encode_frame, encode_prefix, encode_header, encode_record,
                          encode_event, enc_u)

EXPECTED_DISAGREEMENTS = {}

HEADER = {
    "recorder_version": "0.0.0-edge", "arch": "x86_64", "kernel_release": "6.1.0",
    "hostname": "edge", "page_size": 4096, "realtime_offset_ns": 1 << 50, "boottime_offset_ns": 3,
    "start_wall_ns": 1 << 60, "start_mono_ns": 500,
    "command_line": ["recorder", "--", "sh"],
    "filter": {"pids": [], "comms": [], "command": ["sh"], "follow_forks": True},
    "capture_size": 4096, "ring_size": 1 << 23, "redactions": [], "format_minor": 0,
    "lossless": False, "trace": [], "traced_nrs": [], "lean": False,
    "replayable": False, "watch": False,
}
TRAILER = {"end_wall_ns": (1 << 60) + 10, "end_mono_ns": 5000,
           "counters": {k: 0 for k in R.COUNTER_FIELDS}}
TRAILER_BYTES = R.encode_trailer(TRAILER)


def syscall(**kw):
    ev = dict(type="syscall", ts_ns=1000, pid=7, tid=7, seq=2, cpu=1, nr=257,
              args=[2 ** 64 - 100, 0x1000, 0, 0, 0, 0], ret=3, dur_ns=500, died_in_call=False,
              data=[dict(arg=1, kind="str", len=4, truncated=False, read_failed=False,
                         hex=b"/etc".hex())])
    ev.update(kw)
    return ev


SC = encode_event(syscall())                                  # §9's Syscall
EX = encode_event(dict(type="exit", ts_ns=300, pid=5, tid=6, cpu=1, group_dead=True, comm="sh"))
DATA_AT = SC.index(bytes.fromhex("01 0a 01 00 04"))           # the data list: count, item


def with_items(count, *extra):
    """SC with its data count set to `count` and `extra` bytes appended."""
    return SC[:DATA_AT] + enc_u(count) + SC[DATA_AT + 1:] + b"".join(extra)


def log(records, version=2, header=None, hbytes=None, trailer=TRAILER_BYTES, flags=0):
    hb = hbytes if hbytes is not None else encode_header(header or HEADER)
    blk = b"".join(encode_record(r) for r in records)
    return encode_prefix(hb, version, flags) + \
        encode_frame(TAG_BLOCK, blk, record_count=len(records)) + \
        encode_frame(TAG_TRAILER, trailer)


def cases():
    c = {}
    hb = encode_header(HEADER)
    pre = encode_prefix(hb)
    blk = encode_frame(TAG_BLOCK, encode_record(EX), record_count=1)
    tr = encode_frame(TAG_TRAILER, TRAILER_BYTES)
    rec = encode_record(EX)
    zstd = R.zstandard
    z_size = zstd.ZstdCompressor(write_content_size=True).compress(rec)
    z_nosize = zstd.ZstdCompressor(write_content_size=False).compress(rec)
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"abcd"

    def zblock(payload, ulen=len(rec), count=1):
        return pre + encode_frame(TAG_BLOCK, b"", codec=1, payload=payload, record_count=count,
                                  uncompressed_len=ulen) + tr

    # --- prefix and header (§1)
    c["magic-prefix-only"] = MAGIC[:7]
    c["magic-bad-short"] = b"\x89REX"
    c["version-0"] = log([EX], version=0)
    c["version-3-10-bytes"] = log([EX], version=3)[:10]
    c["header-length-over-limit"] = MAGIC + b"\x02\x00\x00\x00" + (MAX_HEADER + 1).to_bytes(4, "little")
    c["header-length-at-limit"] = MAGIC + b"\x02\x00\x00\x00" + MAX_HEADER.to_bytes(4, "little")
    c["flags-set"] = log([EX], flags=1)
    bad = bytearray(log([EX], flags=1))
    bad[20] ^= 1
    c["flags-set-bad-crc"] = bytes(bad)
    c["header-appended-minor-7"] = log([EX], hbytes=encode_header(dict(HEADER, format_minor=7)) + b"\x01\x02")
    c["header-minor-over-u16"] = log([EX], hbytes=hb[:-1] + b"\x80\x80\x04")
    c["header-without-minor"] = log([EX], hbytes=hb[:-1])
    c["header-v1-with-minor"] = log([EX], version=1, hbytes=encode_header(dict(HEADER, format_minor=7)))
    c["header-empty"] = log([EX], hbytes=b"")       # all fields zero-filled: arch ""
    c["header-cut-in-string"] = log([EX], hbytes=hb[:20])
    c["header-only"] = pre
    # --- frames (§2, §4)
    c["frame-header-cut"] = pre + blk[:20]
    c["payload-missing"] = pre + blk[:34]
    c["unknown-frame"] = pre + encode_frame(0x58, b"hello", codec=7) + blk + tr
    c["unknown-frame-ulen-differs"] = pre + encode_frame(0x58, b"abc", codec=9, uncompressed_len=5) + blk + tr
    c["unknown-frame-ulen-over-limit"] = pre + encode_frame(0x58, b"", uncompressed_len=MAX_UNCOMPRESSED + 1) + blk + tr
    c["unknown-frame-bad-crc"] = pre + encode_frame(0x58, b"abc")[:-1] + b"x" + blk + tr
    c["unknown-frame-last"] = pre + blk + encode_frame(0x58, b"abc")
    c["empty-block"] = pre + encode_frame(TAG_BLOCK, b"") + blk + tr
    c["stored-ulen-differs"] = pre + encode_frame(TAG_BLOCK, rec, record_count=1, uncompressed_len=len(rec) + 1) + tr
    c["block-unknown-codec"] = pre + encode_frame(TAG_BLOCK, rec, codec=2, record_count=1) + tr
    c["record-count-high"] = pre + encode_frame(TAG_BLOCK, rec, record_count=2) + tr
    c["record-count-low"] = pre + encode_frame(TAG_BLOCK, rec * 2, record_count=1) + tr
    c["record-length-0"] = pre + encode_frame(TAG_BLOCK, b"\x00" + rec, record_count=2) + tr
    c["record-length-5-bytes-over-u32"] = pre + encode_frame(TAG_BLOCK, b"\x8a\x80\x80\x80\x10" + EX, record_count=1) + tr
    c["record-length-non-canonical"] = pre + encode_frame(TAG_BLOCK, b"\x8a\x00" + EX, record_count=1) + tr
    c["trailer-zstd"] = pre + blk + encode_frame(TAG_TRAILER, TRAILER_BYTES, codec=1)
    c["trailer-appended"] = pre + blk + encode_frame(TAG_TRAILER, TRAILER_BYTES + b"\x05\x06")
    c["trailer-empty"] = pre + blk + encode_frame(TAG_TRAILER, b"")
    c["trailer-cut-in-number"] = pre + blk + encode_frame(TAG_TRAILER, TRAILER_BYTES[:-1] + b"\x81")
    c["trailer-unknown-codec"] = pre + blk + encode_frame(TAG_TRAILER, TRAILER_BYTES, codec=5)
    c["trailer-nonzero-count"] = pre + blk + encode_frame(TAG_TRAILER, TRAILER_BYTES, record_count=5, min_ts=3)
    c["bytes-after-trailer"] = pre + blk + tr + b"\x42garbage"
    # --- zstd (§3)
    c["zstd-no-content-size"] = zblock(z_nosize)
    c["zstd-no-content-size-ulen-short"] = zblock(z_nosize, len(rec) - 1)
    c["zstd-no-content-size-ulen-long"] = zblock(z_nosize, len(rec) + 1)
    c["zstd-content-size-differs"] = zblock(z_size, len(rec) + 1)
    c["zstd-two-frames"] = zblock(z_size + z_size)
    c["zstd-two-frames-no-size"] = zblock(z_nosize + z_nosize, 2 * len(rec), 2)
    c["zstd-frame-then-skippable"] = zblock(z_size + skippable)
    c["zstd-skippable-then-frame"] = zblock(skippable + z_size)
    c["zstd-trailing-junk"] = zblock(z_size + b"\0\0\0")
    c["zstd-checksum"] = zblock(zstd.ZstdCompressor(write_checksum=True).compress(rec))
    zk = bytearray(zstd.ZstdCompressor(write_checksum=True).compress(rec))
    zk[-1] ^= 1
    c["zstd-bad-checksum"] = zblock(bytes(zk))
    c["zstd-empty"] = pre + encode_frame(TAG_BLOCK, b"", codec=1) + blk + tr
    # --- records (§5)
    c["unknown-kind-40"] = log([bytes.fromhex("28 ff ff"), EX])
    c["unknown-kind-128"] = log([b"\x80\x01\x05", EX])
    c["unknown-kind-empty-body"] = log([b"\x29", EX])
    c["unknown-kind-u32-max"] = log([b"\xff\xff\xff\xff\x0f\x00"])
    c["kind-over-u32"] = log([b"\xff\xff\xff\xff\x1f\x00"])
    c["kind-6-bytes"] = log([b"\x80\x80\x80\x80\x80\x01"])
    c["kind-cut"] = log([b"\x80"])
    c["known-kind-empty-body"] = log([b"\x00", b"\x03"])          # all fields zero-filled
    c["exit-appended"] = log([EX + b"\x09\x09\x80"])
    c["exit-aux-5"] = log([EX[:-4] + b"\x05\x02sh"])
    c["comm-not-utf8"] = log([EX[:-2] + b"\xff\x68"])
    c["comm-ends-high-byte"] = log([EX[:-3] + b"\x02\xc3\xa9"])
    c["comm-cut"] = log([EX[:-1]])                                 # string cut by the record end
    c["bool-2"] = log([SC[:DATA_AT - 1] + b"\x02" + SC[DATA_AT:]])
    c["non-canonical-varint"] = log([b"\x03\x85\x00" + EX[2:]])
    c["u32-over-range"] = log([b"\x03\xff\xff\xff\xff\x1f" + EX[2:]])
    c["counters-short"] = log([b"\x04\x01\x02"])
    c["counters-appended"] = log([b"\x04" + b"\x01" * 11 + b"\x07\x07"])
    c["args-cut"] = log([SC[:20]])
    j = SC.index(bytes.fromhex("01 06 e8 07"))
    c["option-tag-then-end"] = log([SC[:j + 1]])
    c["ret-some-exit-none"] = log([SC.replace(b"\x01\xdc\x0b", b"\x00")])
    c["ret-none-exit-some"] = log([SC.replace(b"\x01\x06\xe8\x07", b"\x00\xe8\x07")])
    c["exit-before-entry"] = log([encode_event(syscall(dur_ns=-100))])
    c["signal-crash"] = log([encode_event(dict(type="signal", ts_ns=5, pid=1, tid=2, cpu=0, sig=31,
                                               default_action=True, comm="x"))])
    # --- data items (§5.2, §8)
    c["item-unknown-kind"] = log([with_items(2, b"\x03\x01\x03\xff")])
    c["item-unknown-kind-empty-rest"] = log([with_items(2, b"\x02\x01\x03")])
    c["item-unknown-kind-cut"] = log([with_items(2, b"\x02\x01\x83")])
    c["item-kind-over-u32"] = log([with_items(2, b"\x07\x01\xff\xff\xff\xff\x1f\x00")])
    c["item-empty"] = log([with_items(2, b"\x00")])                # zero-filled: a Str item
    c["item-arg-only"] = log([with_items(2, b"\x01\x05")])
    c["item-appended"] = log([SC[:DATA_AT] + b"\x01\x0d" + SC[DATA_AT + 2:] + b"\x01\x02\x03"])
    c["item-longer-than-record"] = log([SC[:DATA_AT] + b"\x01\x0e" + SC[DATA_AT + 2:]])
    c["item-bytes-cut"] = log([SC[:-2]])
    c["items-missing"] = log([with_items(3)])                     # count 3, one item
    c["v1-item-unknown-kind"] = log([SC[:DATA_AT] + b"\x01\x01\x03\x00\x00\x00\x00"], version=1)
    c["v1-item-bytes-cut"] = log([SC[:DATA_AT] + b"\x01" + SC[DATA_AT + 2:-2]], version=1)
    return c


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recorder", required=True)
    ap.add_argument("--out", help="write the cases here (default: a temporary directory)")
    args = ap.parse_args(argv)
    binary = os.path.abspath(args.recorder)
    out = args.out or tempfile.mkdtemp(prefix="reference-reader-edge-")
    os.makedirs(out, exist_ok=True)
    unexpected = 0
    for name, data in sorted(cases().items()):
        path = os.path.join(out, name + ".rec")
        with open(path, "wb") as f:
            f.write(bytes(data))
        ok, msg, _, _ = compare.compare_log(binary, path)
        first = msg.split("\n")[0]
        if name in EXPECTED_DISAGREEMENTS:
            if ok:
                unexpected += 1
                print("AGREE-NOW %s: expected a disagreement (%s) but both agree: %s"
                      % (name, EXPECTED_DISAGREEMENTS[name], first))
            else:
                print("DISAGREE %s: %s\n    %s" % (name, EXPECTED_DISAGREEMENTS[name], first))
        elif ok:
            print("ok %s: %s" % (name, first))
        else:
            unexpected += 1
            print("DIFF %s: %s" % (name, msg))
    print("%d cases in %s, %d unexpected" % (len(cases()), out, unexpected))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
