"""Self-test of the reference reader: logs built in code from docs/log-format.md.

    cd tools/reference-reader && python3 -m unittest
"""

import io
import os
import unittest

import recorder_log as R
import make_future_log

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "..", "recorder", "tests", "golden", "logs")

# §9 worked examples
EXIT_RECORD = bytes.fromhex("0A 03 05 06 AC 02 01 01 02 73 68")
SYSCALL_BODY = bytes.fromhex(
    "00"                                  # kind 0: Syscall
    "07 07 02 01"                         # tgid 7, tid 7, seq 2, cpu 1
    "82 04"                               # nr 257
    "9C FF FF FF FF FF FF FF FF 01"       # args[0] = -100 as u64
    "80 20 00 00 00 00"                   # args[1] = 0x1000, args[2..6] = 0
    "01 06"                               # ret Some(3)
    "E8 07"                               # enter_ns 1000
    "01 DC 0B"                            # exit_ns Some(1500)
    "00"                                  # died_in_call false
    "01"                                  # one data item
    "0A"                                  # item length 10
    "01 00 04 00 00 04 2F 65 74 63")      # arg 1, Str, len 4, "/etc"
SYSCALL_RECORD = bytes((len(SYSCALL_BODY),)) + SYSCALL_BODY

EXIT_EVENT = {"type": "exit", "ts_ns": 300, "pid": 5, "tid": 6, "cpu": 1, "comm": "sh",
              "group_dead": True}
SYSCALL_EVENT = {
    "type": "syscall", "ts_ns": 1000, "pid": 7, "tid": 7, "seq": 2, "cpu": 1, "nr": 257,
    "args": [0xFFFFFFFFFFFFFF9C, 0x1000, 0, 0, 0, 0], "ret": 3, "dur_ns": 500,
    "died_in_call": False,
    "data": [{"arg": 1, "kind": "str", "len": 4, "truncated": False, "read_failed": False,
              "hex": "2f657463"}],
}
HEADER = {
    "recorder_version": "0.0.0-test", "arch": "x86_64", "kernel_release": "6.1.0",
    "hostname": "h", "page_size": 4096, "realtime_offset_ns": -5, "boottime_offset_ns": 7,
    "start_wall_ns": 1 << 60, "start_mono_ns": 900,
    "command_line": ["recorder", "--", "sh"],
    "filter": {"pids": [1, 300], "comms": ["sh"], "command": ["sh"], "follow_forks": True},
    "capture_size": 4096, "ring_size": 1 << 23, "redactions": [], "format_minor": 0,
    "lossless": False, "trace": [], "traced_nrs": [], "lean": False, "replayable": False,
    "watch": False,
}
COUNTERS = {k: i for i, k in enumerate(R.COUNTER_FIELDS)}
TRAILER = {"end_wall_ns": (1 << 60) + 10, "end_mono_ns": 2000, "counters": COUNTERS}


def block(records, codec=R.CODEC_STORED, count=None):
    data = b"".join(records)
    return R.encode_frame(R.TAG_BLOCK, data, codec=codec,
                          record_count=len(records) if count is None else count,
                          min_ts=300, max_ts=1000)


def trailer():
    return R.encode_frame(R.TAG_TRAILER, R.encode_trailer(TRAILER))


def minimal_log(version=2, records=(SYSCALL_RECORD, EXIT_RECORD), header=HEADER):
    hb = R.encode_header(header)
    return R.encode_prefix(hb, version) + block(list(records)) + trailer()


def read(data):
    r = R.LogReader(io.BytesIO(data))
    evs = list(r.events())
    return evs, r.summary()


class Primitives(unittest.TestCase):
    def test_crc_check_value(self):
        self.assertEqual(R.crc32(b"123456789"), 0xCBF43926)

    def test_varint(self):
        self.assertEqual(R.encode_varint(300), b"\xac\x02")
        self.assertEqual(R.read_varint(b"\xac\x02", 0, 2, 5, R.U32_MAX), (300, 2))
        self.assertEqual(R.read_varint(b"\xff\xff\xff\xff\x0f", 0, 5, 5, R.U32_MAX),
                         (R.U32_MAX, 5))
        with self.assertRaises(R.DecodeError):          # 5th byte over 0x0f
            R.read_varint(b"\xff\xff\xff\xff\x10", 0, 5, 5, R.U32_MAX)
        with self.assertRaises(R.DecodeError):          # longer than 5 bytes
            R.read_varint(b"\x80\x80\x80\x80\x80\x00", 0, 6, 5, R.U32_MAX)
        with self.assertRaises(R.DecodeError):          # ends inside the number
            R.read_varint(b"\x80", 0, 1, 5, R.U32_MAX)

    def test_zigzag(self):
        for n, z in ((0, 0), (-1, 1), (1, 2), (-2, 3), (257, 514), (-100, 199),
                     (-(1 << 63), (1 << 64) - 1), ((1 << 63) - 1, (1 << 64) - 2)):
            self.assertEqual(R.zigzag_encode(n), z)
            self.assertEqual(R.zigzag_decode(z), n)


class WorkedExamples(unittest.TestCase):
    def test_encodings_match_section_9(self):
        self.assertEqual(R.encode_record(R.encode_event(EXIT_EVENT)), EXIT_RECORD)
        self.assertEqual(R.encode_event(SYSCALL_EVENT), SYSCALL_BODY)
        self.assertEqual(SYSCALL_RECORD[0], 0x2B)

    def test_minimal_log(self):
        evs, s = read(minimal_log())
        self.assertEqual(evs, [SYSCALL_EVENT, EXIT_EVENT])
        self.assertEqual(s["end"]["state"], "clean")
        self.assertEqual(s["header"], HEADER)
        self.assertEqual(s["trailer"], TRAILER)
        self.assertEqual(s["format_version"], 2)
        self.assertEqual(s["records"], 2)

    def test_zstd_block(self):
        hb = R.encode_header(HEADER)
        log = R.encode_prefix(hb) + block([SYSCALL_RECORD, EXIT_RECORD], codec=R.CODEC_ZSTD) + \
            trailer()
        evs, s = read(log)
        self.assertEqual(evs, [SYSCALL_EVENT, EXIT_EVENT])
        self.assertEqual(s["end"]["state"], "clean")

    def test_handmade_raw_zstd_frame(self):
        data = bytes(range(256)) * 700           # over one 128 KiB zstd block
        frame = make_future_log.zstd_raw_frame(data)
        self.assertEqual(R.zstd_frame_size(frame), len(frame))
        self.assertEqual(R.zstd_decompress(frame, len(data)), data)

    def test_version_1(self):
        # version 1: the data items have no length prefix
        body = SYSCALL_BODY.replace(bytes.fromhex("01 0A 01 00 04"), bytes.fromhex("01 01 00 04"))
        v1 = dict(HEADER)
        del v1["format_minor"], v1["lossless"], v1["trace"], v1["traced_nrs"], v1["lean"]
        del v1["replayable"], v1["watch"]
        evs, s = read(minimal_log(1, [R.encode_record(body), EXIT_RECORD], v1))
        self.assertEqual(evs, [SYSCALL_EVENT, EXIT_EVENT])
        self.assertEqual(s["format_minor"], 0)          # zero-filled
        self.assertEqual(s["end"]["state"], "clean")


class Revisions(unittest.TestCase):
    def test_trace_set_of_revision_2(self):
        h = dict(HEADER, format_minor=2, trace=["openat,%process", "!read"],
                 traced_nrs=[1, 56, 257, 1023])
        evs, s = read(R.encode_prefix(R.encode_header(h)) + block([EXIT_RECORD]))
        self.assertEqual(s["header"]["trace"], ["openat,%process", "!read"])
        self.assertEqual(s["header"]["traced_nrs"], [1, 56, 257, 1023])

    def test_lean_of_revision_3(self):
        h = dict(HEADER, format_minor=3, lean=True)
        evs, s = read(R.encode_prefix(R.encode_header(h)) + block([EXIT_RECORD]))
        self.assertEqual(evs, [EXIT_EVENT])
        self.assertIs(s["header"]["lean"], True)

    def test_replayable_of_revision_4(self):
        h = dict(HEADER, format_minor=4, replayable=True)
        evs, s = read(R.encode_prefix(R.encode_header(h)) + block([EXIT_RECORD]))
        self.assertEqual(evs, [EXIT_EVENT])
        self.assertIs(s["header"]["replayable"], True)
        del h["replayable"], h["watch"]
        h["format_minor"] = 3
        evs, s = read(R.encode_prefix(R.encode_header(h)) + block([EXIT_RECORD]))
        self.assertIs(s["header"]["replayable"], False)

    def test_watch_and_who_of_revision_5(self):
        who = {"type": "who", "pid": 42, "tid": 43, "ts_ns": 700, "comm": "rm", "uid": 1000,
               "gid": 100, "exe": "/usr/bin/rm", "source": "proc",
               "cgroup": "/system.slice/cron.service", "cgroup_id": 9876,
               "parents": [{"pid": 40, "comm": "sh"}, {"pid": 1, "comm": "systemd"}]}
        body = R.encode_event(who)
        # kind 7, then the fields in order (docs/log-format.md §5.2, `WhoEvent`)
        self.assertEqual(body[:8], bytes.fromhex("07 2a 2b bc 05 02 72 6d"))
        h = dict(HEADER, format_minor=5, watch=True)
        evs, s = read(R.encode_prefix(R.encode_header(h)) +
                      block([R.encode_record(body), EXIT_RECORD]) + trailer())
        self.assertEqual(evs, [who, EXIT_EVENT])
        self.assertIs(s["header"]["watch"], True)
        self.assertEqual(s["counts"]["who"], 1)
        # a reader of revision 4 (no kind 7) skips it, counts it, reads the rest
        saved = R.KIND_WHO
        R.KIND_WHO = None
        try:
            evs4, s4 = read(R.encode_prefix(R.encode_header(h)) +
                            block([R.encode_record(body), EXIT_RECORD]) + trailer())
        finally:
            R.KIND_WHO = saved
        self.assertEqual(evs4, [EXIT_EVENT])
        self.assertEqual(s4["skipped_events"], {"total": 1, "kinds": {"7": 1}})
        self.assertEqual(s4["end"]["state"], "clean")
        # a revision 4 header ends before `watch`: not a watch
        del h["watch"]
        h["format_minor"] = 4
        evs, s = read(R.encode_prefix(R.encode_header(h)) + block([EXIT_RECORD]))
        self.assertIs(s["header"]["watch"], False)

    def test_revision_2_header_reads_as_full_mode(self):
        h = dict(HEADER, format_minor=2)
        del h["lean"], h["replayable"], h["watch"]
        evs, s = read(R.encode_prefix(R.encode_header(h)) + block([EXIT_RECORD]))
        self.assertIs(s["header"]["lean"], False)

    def test_revision_1_header_reads_with_no_trace_set(self):
        h = dict(HEADER, format_minor=1)
        del h["trace"], h["traced_nrs"], h["lean"], h["replayable"], h["watch"]
        evs, s = read(R.encode_prefix(R.encode_header(h)) + block([EXIT_RECORD]))
        self.assertEqual(evs, [EXIT_EVENT])
        self.assertEqual((s["header"]["trace"], s["header"]["traced_nrs"]), ([], []))


class ForwardCompatibility(unittest.TestCase):
    def test_unknown_event_kinds_skipped(self):
        recs = [bytes.fromhex("03 28 FF FF"), EXIT_RECORD,
                R.encode_record(R.enc_u(128) + b"\x01"), bytes.fromhex("01 3F")]
        evs, s = read(minimal_log(records=recs))
        self.assertEqual(evs, [EXIT_EVENT])
        self.assertEqual(s["skipped_events"], {"total": 3, "kinds": {"40": 1, "63": 1, "128": 1}})
        self.assertEqual(s["end"]["state"], "clean")

    def test_unknown_data_item_kind_skipped_in_v2(self):
        item = b"\x01" + R.enc_u(3) + b"\xaa\xbb"
        body = SYSCALL_BODY.replace(bytes.fromhex("01 0A"), bytes.fromhex("02 0A")) + \
            R.enc_bytes(item)
        evs, s = read(minimal_log(records=[R.encode_record(body)]))
        self.assertEqual(evs, [SYSCALL_EVENT])
        self.assertEqual(s["skipped_data_items"], {"total": 1, "kinds": {"3": 1}})

    def test_unknown_data_item_kind_is_damage_in_v1(self):
        body = SYSCALL_BODY.replace(bytes.fromhex("01 0A 01 00 04"), bytes.fromhex("01 01 03 04"))
        evs, s = read(minimal_log(1, [EXIT_RECORD, R.encode_record(body)]))
        self.assertEqual(evs, [EXIT_EVENT])               # the records before it
        self.assertEqual(s["end"]["state"], "corrupt")
        self.assertEqual(s["end"]["record_index"], 1)

    def test_appended_fields_ignored_and_missing_ones_zero(self):
        h = dict(HEADER, format_minor=9)
        hb = R.encode_header(h) + b"\x05extra"
        exit_longer = R.encode_record(EXIT_RECORD[1:] + b"\x2a\x00")
        counters_short = R.encode_record(R.enc_u(R.KIND_COUNTERS) + b"\x01\x02")
        t = R.encode_trailer(TRAILER) + b"\x07"
        log = R.encode_prefix(hb) + block([exit_longer, counters_short]) + \
            R.encode_frame(0x58, b"?", codec=9) + R.encode_frame(R.TAG_TRAILER, t)
        evs, s = read(log)
        self.assertEqual(evs[0], EXIT_EVENT)
        self.assertEqual(evs[1]["emitted"], 1)
        self.assertEqual(evs[1]["ring_full"], 2)
        self.assertEqual(evs[1]["written"], 0)
        self.assertEqual(s["format_minor"], 9)
        self.assertEqual(s["trailer"], TRAILER)
        self.assertEqual(s["skipped_frames"], {"total": 1, "tags": {"0x58": 1}})
        self.assertEqual(s["end"]["state"], "clean")

    def test_number_cut_by_the_item_end_is_damage(self):
        evs, s = read(minimal_log(records=[EXIT_RECORD, bytes.fromhex("02 03 85")]))
        self.assertEqual(evs, [EXIT_EVENT])
        self.assertEqual(s["end"]["state"], "corrupt")

    def test_future_golden_log(self):
        src = os.path.join(GOLDEN, "v2", "x86_64", "basic.rec")
        fut = os.path.join(GOLDEN, "future", "x86_64-basic.rec")
        with open(src, "rb") as f:
            src_bytes = f.read()
        with open(fut, "rb") as f:
            fut_bytes = f.read()
        self.assertEqual(make_future_log.make_future(src_bytes), fut_bytes,
                         "make_future_log.py no longer makes the committed future log")
        a, sa = read(src_bytes)
        b, sb = read(fut_bytes)
        self.assertEqual(a, b)
        self.assertEqual(sb["end"]["state"], "clean")
        self.assertEqual(sb["format_minor"], make_future_log.FUTURE_MINOR)
        self.assertEqual(sb["skipped_events"]["total"], 3)
        self.assertEqual(sb["skipped_data_items"]["total"], 2)
        self.assertEqual(sb["skipped_frames"]["total"], 1)
        self.assertEqual(sb["trailer"], sa["trailer"])


class EndStates(unittest.TestCase):
    def end(self, data):
        return read(data)[1]["end"]

    def test_prefix(self):
        log = minimal_log()
        self.assertEqual(self.end(b"")["state"], "empty")
        self.assertEqual(self.end(b"GIF89a")["state"], "not_a_log")
        self.assertEqual(self.end(b"\x89RE")["state"], "truncated")       # a prefix of the magic
        e = self.end(R.MAGIC + b"\x09\x00")                              # 10 bytes, version 9
        self.assertEqual((e["state"], e["version"]), ("unsupported_version", 9))
        e = self.end(log[:12])
        self.assertEqual((e["state"], e["where"], e["offset"], e["needed"], e["remained"]),
                         ("truncated", "prefix", 0, 16, 12))

    def test_header(self):
        log = minimal_log()
        n = int.from_bytes(log[12:16], "little")
        e = self.end(log[:30])
        self.assertEqual((e["state"], e["where"], e["offset"], e["needed"], e["remained"]),
                         ("truncated", "header", 16, n + 4, 14))
        e = self.end(log[:16 + n + 4])
        self.assertEqual((e["state"], e["offset"]), ("no_trailer", 20 + n))
        bad = bytearray(log)
        bad[20] ^= 1
        self.assertEqual(self.end(bytes(bad))["state"], "corrupt")
        big = R.MAGIC + b"\x02\x00\x00\x00" + (R.MAX_HEADER + 1).to_bytes(4, "little")
        e = self.end(big)
        self.assertEqual((e["state"], e["offset"]), ("corrupt", 16))
        flagged = R.encode_prefix(R.encode_header(HEADER), 2, flags=1) + log[20 + n:]
        self.assertEqual(self.end(flagged)["state"], "unsupported_flags")
        flagged = bytearray(flagged)
        flagged[20] ^= 1                                 # CRC first, then flags
        self.assertEqual(self.end(bytes(flagged))["state"], "corrupt")

    def test_frames(self):
        hb = R.encode_header(HEADER)
        head = R.encode_prefix(hb)
        b1 = block([EXIT_RECORD])
        b2 = block([SYSCALL_RECORD])
        log = head + b1 + b2 + trailer()
        at2 = len(head) + len(b1)
        # cut inside the second block's frame header, then inside its payload
        evs, s = read(log[:at2 + 10])
        self.assertEqual(evs, [EXIT_EVENT])
        self.assertEqual((s["end"]["state"], s["end"]["offset"], s["end"]["needed"],
                          s["end"]["remained"]), ("truncated", at2, 34, 10))
        evs, s = read(log[:at2 + 40])
        self.assertEqual((s["end"]["state"], s["end"]["offset"], s["end"]["needed"],
                          s["end"]["remained"]), ("truncated", at2, len(b2), 40))
        self.assertEqual(evs, [EXIT_EVENT])
        # ends after a complete block: no trailer
        evs, s = read(log[:at2 + len(b2)])
        self.assertEqual((s["end"]["state"], s["end"]["offset"]), ("no_trailer", at2 + len(b2)))
        self.assertEqual(len(evs), 2)
        # a flipped bit in the second block: its events are not delivered
        bad = bytearray(log)
        bad[at2 + 40] ^= 0x10
        evs, s = read(bytes(bad))
        self.assertEqual(evs, [EXIT_EVENT])
        self.assertEqual((s["end"]["state"], s["end"]["offset"]), ("corrupt", at2))
        # record count off by one
        evs, s = read(head + block([EXIT_RECORD], count=2) + trailer())
        self.assertEqual((evs, s["end"]["state"]), ([], "corrupt"))
        # payload length over its limit: corrupt, not truncated
        fh = bytes((R.TAG_BLOCK, 0)) + (R.MAX_PAYLOAD + 1).to_bytes(4, "little") + bytes(28)
        self.assertEqual(self.end(head + fh)["state"], "corrupt")
        # unknown codec in a block
        self.assertEqual(self.end(head + R.encode_frame(R.TAG_BLOCK, EXIT_RECORD, codec=5,
                                                        record_count=1))["state"], "corrupt")
        # zstd: content size differing from the uncompressed length, two frames
        zb = R.encode_frame(R.TAG_BLOCK, EXIT_RECORD, codec=1, record_count=1,
                            uncompressed_len=len(EXIT_RECORD) + 1)
        self.assertEqual(self.end(head + zb)["state"], "corrupt")
        one = R.encode_frame(R.TAG_BLOCK, EXIT_RECORD, codec=1)[34:]
        two = R.encode_frame(R.TAG_BLOCK, EXIT_RECORD * 2, codec=1, payload=one + one,
                             record_count=2)
        self.assertEqual(self.end(head + two)["state"], "corrupt")
        # bytes after the trailer are ignored
        self.assertEqual(self.end(log + b"garbage")["state"], "clean")

    def test_garbage_never_crashes(self):
        import random
        rng = random.Random(1)
        log = minimal_log()
        for _ in range(2000):
            bad = bytearray(log)
            for _ in range(rng.randint(1, 4)):
                bad[rng.randrange(len(bad))] = rng.randrange(256)
            read(bytes(bad[:rng.randrange(len(bad) + 1)]))
            read(bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
        # damage behind a good CRC: random record bytes, resealed
        head = R.encode_prefix(R.encode_header(HEADER))
        data = SYSCALL_RECORD + EXIT_RECORD
        for _ in range(3000):
            bad = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                bad[rng.randrange(len(bad))] = rng.choice((0, 1, 0x7f, 0x80, 0xff,
                                                           rng.randrange(256)))
            bad = bytes(bad[:rng.randrange(len(bad) - 5, len(bad) + 1)])
            try:
                n = len(R.split_records(bad))
            except R.DecodeError:
                n = 2
            evs, s = read(head + R.encode_frame(R.TAG_BLOCK, bad, record_count=n) + trailer())
            self.assertIn(s["end"]["state"], ("clean", "corrupt"))


if __name__ == "__main__":
    unittest.main()
