#!/usr/bin/env python3
"""Hold the independent reader (recorder_log.py) against `recorder dump --json`
and `recorder info --json`, field by field.

    python3 compare.py --recorder PATH [--damage N] [--seed S] [--keep DIR] LOG...

For each log: every event line of `recorder dump --json` against the Python
reader's events (in order), the record count, the header, the trailer, the
event counts, the skip counts and how reading ended (kind, frame offset,
bytes needed / remaining) against `recorder info --json`.  One line per log;
exit status 1 if anything differs.

--damage N also makes N deterministic damaged variants of each log
(truncations, bit flips, corrupted length fields — some with their CRCs
recomputed so that the damage reaches the checks behind the CRC) and
compares both readers on each of them.  See README.md.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recorder_log as R  # noqa: E402

# Keys of `recorder dump --json` that are not log-level fields (the spec,
# docs/log-format.md, does not define them: they are the recorder's
# interpretation of the records), so the reference reader does not produce
# them and compare ignores them.  See README.md.
IGNORED_EVENT_KEYS = {
    "syscall": "syscall name: from the recorder's per-architecture syscall table",
    "errno": "errno name of a failed call: from the recorder's errno table",
    "signal": "signal name (SIGSEGV ...): from the recorder's signal table",
}
IGNORED_DATA_KEYS = {
    "text": "the bytes as text: present by the recorder's decode table (textual items only)",
}

# completeness.end / error message of the recorder → (state, where, offset, needed, remained)
END_PATTERNS = [
    (re.compile(r"^complete \(trailer present\)"), "clean"),
    (re.compile(r"^ends at offset (?P<offset>\d+) without a trailer"), "no_trailer"),
    (re.compile(r"^truncated (?P<where>.+?) at offset (?P<offset>\d+): needs (?P<needed>\d+) bytes, "
                r"only (?P<remained>\d+) remain"), "truncated"),
    (re.compile(r"^corrupt (?P<where>.+?) at offset (?P<offset>\d+): "), "corrupt"),
    (re.compile(r"^empty file"), "empty"),
    (re.compile(r"^not a recorder log"), "not_a_log"),
    (re.compile(r"^unsupported format version (?P<version>\d+)"), "unsupported_version"),
    (re.compile(r"^unsupported format flags"), "unsupported_flags"),
]
WHERE_NAMES = {"file prefix": "prefix"}

# Known disagreements between the recorder and the documents (reported, see
# README.md "Known disagreements").  compare.py accepts them, counts them and
# names them in its output; --strict makes them failures.  The reference
# reader itself follows the documents.
KNOWN = {
    "arch-refused": "recorder refuses a log whose header names an architecture it has no "
                    "syscall table for (not a reason to stop in log-format.md §4)",
    "zstd-decoder": "a zstd payload damaged under a recomputed CRC: whether and how it "
                    "decodes depends on the zstd decoder (python-zstandard's libzstd vs "
                    "the recorder's), not on the format",
}
SUPPORTED_ARCHES = ("x86_64", "aarch64")


def parse_end(text):
    for rx, state in END_PATTERNS:
        m = rx.search(text)
        if m:
            g = m.groupdict()
            end = {"state": state}
            if g.get("where"):
                end["where"] = WHERE_NAMES.get(g["where"], g["where"])
            for k in ("offset", "needed", "remained", "version"):
                if g.get(k) is not None:
                    end[k] = int(g[k])
            return end
    return {"state": "unrecognised", "text": text}


def same(a, b):
    """JSON equality that tells bools from integers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def first_diff(a, b, path=""):
    """Path and values of the first difference between two JSON values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a:
                return "%s.%s: only in the Python reader (%s)" % (path, k, json.dumps(b[k]))
            if k not in b:
                return "%s.%s: only in the recorder (%s)" % (path, k, json.dumps(a[k]))
            d = first_diff(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        if len(a) != len(b):
            return "%s: %d elements in the recorder, %d in the Python reader" % (path, len(a), len(b))
        return None
    if not same(a, b):
        return "%s: recorder %s, Python reader %s" % (path or "value", json.dumps(a), json.dumps(b))
    return None


def strip_recorder_event(ev):
    ev = {k: v for k, v in ev.items() if k not in IGNORED_EVENT_KEYS}
    if isinstance(ev.get("data"), list):
        ev["data"] = [{k: v for k, v in d.items() if k not in IGNORED_DATA_KEYS}
                      if isinstance(d, dict) else d for d in ev["data"]]
    return ev


def run_recorder(binary, log):
    dump = subprocess.run([binary, "dump", "--json", log], capture_output=True, timeout=120)
    info = subprocess.run([binary, "info", "--json", log], capture_output=True, timeout=120)
    return dump, info


def error_message(stderr, log):
    """The message of a `recorder: error: LOG: MESSAGE` line, if any."""
    text = stderr.decode("utf-8", "replace")
    msgs = []
    for line in text.splitlines():
        m = re.match(r"^recorder: error: (.*)$", line)
        if m:
            msg = m.group(1)
            if msg.startswith(log + ": "):
                msg = msg[len(log) + 2:]
            msg = re.sub(r"^stopped reading: ", "", msg)
            msgs.append(msg)
    return msgs[-1] if msgs else None


NOTE_SKIPS = re.compile(r"(\d+) events? of kinds? newer than this reader skipped \(([^)]*)\)")


def compare_log(binary, log, strict=False, zstd_damaged=False):
    """→ (ok, message, py_end_state, [known disagreements met]).

    zstd_damaged: the log has a zstd payload damaged under a good CRC, so a
    difference from there on is decoder-dependent (KNOWN["zstd-decoder"])."""
    known = []
    ok, msg, pstate, known = _compare_log(binary, log, strict, known)
    if not ok and zstd_damaged and not strict and pstate != "internal_error":
        return True, "decoder-dependent: " + msg.split("\n")[0], pstate, known + ["zstd-decoder"]
    return ok, msg, pstate, known


def _compare_log(binary, log, strict, known):
    dump, info = run_recorder(binary, log)
    with open(log, "rb") as f:
        reader = R.LogReader(f)
        try:
            py_events = [e for e in reader.events() if e["type"] != "counters"]
        except Exception as e:  # a bug in the Python reader
            return False, "Python reader crashed: %r" % (e,), "internal_error", known
        py = reader.summary()
    pstate = py["end"]["state"]

    # --- events: dump --json stdout
    rs_events = []
    for n, line in enumerate(dump.stdout.decode("utf-8", "replace").splitlines()):
        try:
            rs_events.append(json.loads(line))
        except ValueError:
            return False, "dump --json line %d is not JSON: %r" % (n + 1, line[:200]), pstate, known
    if not rs_events and dump.returncode != 0:
        m = error_message(info.stderr, log) or error_message(dump.stderr, log) or ""
        am = re.match(r'^log header names architecture "(.*)"; supported', m)
        if am:
            h = py["header"]
            if h is None or h["arch"] in SUPPORTED_ARCHES:
                return False, "recorder refused the arch: %r; Python reader: %s (header arch %r)" % (
                    m, py["end"]["message"], h and h["arch"]), pstate, known
            known.append("arch-refused")
            if strict:
                return False, "known disagreement arch-refused: %s" % m, pstate, known
            return True, "%d events (known disagreement arch-refused: recorder: %s; Python reader: %s)" % (
                len(py_events), m, py["end"]["message"]), pstate, known
    for i, (a, b) in enumerate(zip(rs_events, py_events)):
        sa = strip_recorder_event(a)
        if not same(sa, b):
            return False, ("event %d differs: %s\n    recorder: %s\n    python:   %s"
                           % (i, first_diff(sa, b), json.dumps(a), R.dumps(b))), pstate, known
    if len(rs_events) != len(py_events):
        i = min(len(rs_events), len(py_events))
        extra = rs_events[i] if len(rs_events) > i else py_events[i]
        return False, ("recorder dump printed %d events, Python reader %d; first extra: %s"
                       % (len(rs_events), len(py_events), json.dumps(extra))), pstate, known
    m = re.search(r"(\d+) records", dump.stderr.decode("utf-8", "replace"))
    if m and int(m.group(1)) != len(py_events):
        return False, ("dump's summary says %s records, Python reader delivered %d"
                       % (m.group(1), len(py_events))), pstate, known

    # --- info --json
    info_doc = None
    if info.stdout.strip():
        try:
            info_doc = json.loads(info.stdout)
        except ValueError:
            return False, "info --json output is not JSON", pstate, known
    if info_doc is not None:
        rend = parse_end(info_doc["completeness"]["end"])
    else:
        msg = error_message(info.stderr, log) or error_message(dump.stderr, log)
        if msg is None:
            return False, "recorder info failed without a message (exit %d): %r" % (
                info.returncode, info.stderr[-300:]), pstate, known
        rend = parse_end(msg)
    pend = py["end"]
    if rend["state"] == "unrecognised":
        return False, "cannot parse the recorder's end: %r (Python: %s)" % (
            rend["text"], pend["message"]), pstate, known
    for k in ("state", "offset", "where", "needed", "remained", "version"):
        if k in rend and (k not in pend or pend[k] != rend[k]):
            return False, ("end differs in %s: recorder %r, Python %r\n    recorder: %s\n"
                           "    python:   %s" % (k, rend.get(k), pend.get(k), json.dumps(rend),
                                                 pend["message"])), pstate, known
    # dump's exit status: 0 exactly when the log ended cleanly or without a trailer
    if (dump.returncode == 0) != (pstate in ("clean", "no_trailer")):
        return False, "dump exited %d for a log that ended %s" % (dump.returncode, pstate), pstate, known

    if info_doc is not None:
        checks = [
            ("format_version", info_doc.get("format_version"), py["format_version"]),
            ("header", info_doc.get("header"), py["header"]),
            ("trailer", info_doc.get("trailer"), py["trailer"]),
            ("records", info_doc.get("records"), py["records"]),
        ]
        counts = info_doc.get("counts", {})
        pc = py["counts"]
        for rk, pk in (("syscalls", "syscall"), ("exec", "exec"), ("fork", "fork"),
                       ("exit", "exit"), ("signal", "signal"), ("checkpoints", "counters")):
            checks.append(("counts." + rk, counts.get(rk), pc.get(pk, 0)))
        comp = info_doc.get("completeness", {})
        checks.append(("completeness.skipped_events", comp.get("skipped_events"),
                       py["skipped_events"]["total"]))
        checks.append(("completeness.skipped_data_items", comp.get("skipped_data_items"),
                       py["skipped_data_items"]["total"]))
        kinds = {}
        for note in comp.get("notes", []):
            mm = NOTE_SKIPS.search(note)
            if mm:
                for part in mm.group(2).split(","):
                    km = re.match(r"\s*kind (\d+): (\d+)", part)
                    if km:
                        kinds[km.group(1)] = int(km.group(2))
        if kinds or py["skipped_events"]["total"]:
            checks.append(("skipped events by kind (completeness.notes)", kinds,
                           py["skipped_events"]["kinds"]))
        for name, a, b in checks:
            if not same(a, b):
                d = first_diff(a, b, name) if isinstance(a, (dict, list)) else None
                return False, "%s differs: %s" % (name, d or "recorder %s, Python %s" % (
                    json.dumps(a), json.dumps(b))), pstate, known

    desc = "%d events" % len(py_events)
    if known:
        desc += " (known disagreements: %s)" % ", ".join(sorted(set(known)))
    if pstate != "clean":
        desc += ", %s" % pend["message"]
    sk = py["skipped_events"]["total"] + py["skipped_data_items"]["total"]
    if sk:
        desc += ", skipped %d events %s and %d data items %s" % (
            py["skipped_events"]["total"], json.dumps(py["skipped_events"]["kinds"]),
            py["skipped_data_items"]["total"], json.dumps(py["skipped_data_items"]["kinds"]))
    return True, desc, pstate, known


# --- damage ------------------------------------------------------------------

LIMITS = {"payload_len": R.MAX_PAYLOAD, "uncompressed_len": R.MAX_UNCOMPRESSED,
          "record_count": 1 << 20}
FIELD_AT = {"payload_len": 2, "uncompressed_len": 6, "record_count": 10}


def new_length(rng, old, limit):
    choice = rng.randrange(8)
    if choice == 0:
        return 0
    if choice == 1:
        return limit + 1
    if choice == 2:
        return limit
    if choice == 3:
        return rng.randrange(1 << 32)
    v = old + rng.choice((-1, 1)) * rng.randint(1, 3 if choice < 6 else 300)
    return min(max(v, 0), (1 << 32) - 1)


def frame_bytes(data, off):
    plen = int.from_bytes(data[off + 2:off + 6], "little")
    return off + R.FRAME_HEADER_LEN + plen


def reseal_frame_at(buf, off):
    """Recompute the CRC of the frame at off over what a reader would see."""
    plen = int.from_bytes(buf[off + 2:off + 6], "little")
    payload = bytes(buf[off + R.FRAME_HEADER_LEN:off + R.FRAME_HEADER_LEN + plen])
    buf[off + 30:off + 34] = R.crc32(payload, R.crc32(bytes(buf[off:off + 30]))).to_bytes(4, "little")


def mutate_bytes(rng, data):
    """A random change to a byte string: bit flip, byte set, cut, insert, delete."""
    data = bytearray(data)
    op = rng.randrange(5)
    if not data:
        op = 3
    if op == 0:
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
        return bytes(data), "flip bit at %d" % i
    if op == 1:
        i = rng.randrange(len(data))
        data[i] = rng.choice((0x00, 0x01, 0x7f, 0x80, 0xff, rng.randrange(256)))
        return bytes(data), "set byte %d" % i
    if op == 2:
        i = rng.randrange(len(data))
        return bytes(data[:i]), "cut at %d" % i
    if op == 3:
        i = rng.randrange(len(data) + 1)
        ins = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        return bytes(data[:i] + ins + data[i:]), "insert %d bytes at %d" % (len(ins), i)
    i = rng.randrange(len(data))
    n = rng.randint(1, 4)
    return bytes(data[:i] + data[i + n:]), "delete %d bytes at %d" % (n, i)


def mutate_record_length(rng, block):
    """Change one record's length varint (the records stay otherwise intact)."""
    recs = R.split_records(block)
    if not recs:
        return block, 0, "no record"
    i = rng.randrange(len(recs))
    delta = rng.choice((-2, -1, 1, 2, rng.randint(-50, 50)))
    out = bytearray()
    for j, r in enumerate(recs):
        n = len(r) + (delta if j == i else 0)
        out += R.encode_varint(max(n, 0)) + r
    return bytes(out), len(recs), "record %d length %+d" % (i, delta)


def make_damaged(data, rng, zstd_damaged):
    """One damaged variant of a well-formed log → (bytes, description).

    Sets zstd_damaged[0] when a zstd payload was changed under a good CRC."""
    head, frames = R.split_log(data)
    kind = rng.randrange(8)
    if kind == 0 or not frames:
        cut = rng.randrange(len(data))
        return data[:cut], "truncated at %d" % cut
    if kind == 1:
        buf = bytearray(data)
        nbits = rng.choice((1, 1, 1, 2, 3))
        where = []
        for _ in range(nbits):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
            where.append(i)
        return bytes(buf), "bit flips at %s" % where
    if kind in (2, 3):
        # a length field: the header's, or a frame's; kind 3 recomputes the CRC
        buf = bytearray(data)
        reseal = kind == 3
        if rng.randrange(5) == 0:
            old = int.from_bytes(buf[12:16], "little")
            new = new_length(rng, old, R.MAX_HEADER)
            buf[12:16] = new.to_bytes(4, "little")
            if reseal and 20 + new <= len(buf):
                buf[16 + new:20 + new] = R.crc32(bytes(buf[16:16 + new]),
                                                 R.crc32(bytes(buf[8:16]))).to_bytes(4, "little")
            return bytes(buf), "header length %d -> %d%s" % (old, new, " (resealed)" if reseal else "")
        fr = rng.choice(frames)
        field = rng.choice(("payload_len", "uncompressed_len", "record_count"))
        at = fr["offset"] + FIELD_AT[field]
        old = int.from_bytes(buf[at:at + 4], "little")
        new = new_length(rng, old, LIMITS[field])
        buf[at:at + 4] = new.to_bytes(4, "little")
        if reseal:
            reseal_frame_at(buf, fr["offset"])
        return bytes(buf), "frame at %d: %s %d -> %d%s" % (fr["offset"], field, old, new,
                                                          " (resealed)" if reseal else "")
    if kind in (4, 5):
        # damage inside a block's data, the frame rebuilt with a good CRC
        blocks = [f for f in frames if f["tag"] == R.TAG_BLOCK] or frames
        fr = rng.choice(blocks)
        count = fr["record_count"]
        if kind == 4 and fr["tag"] == R.TAG_BLOCK:
            new, count, what = mutate_record_length(rng, fr["data"])
        else:
            new, what = mutate_bytes(rng, fr["data"])
            if fr["tag"] == R.TAG_BLOCK and rng.randrange(3) == 0:
                try:
                    count = len(R.split_records(new))
                    what += ", count fixed"
                except R.DecodeError:
                    pass
        codec = rng.choice((R.CODEC_STORED, R.CODEC_ZSTD))
        frame = R.encode_frame(fr["tag"], new, codec=codec, record_count=count,
                               min_ts=fr["min_ts"], max_ts=fr["max_ts"])
        end = fr["offset"] + R.FRAME_HEADER_LEN + fr["payload_len"]
        return data[:fr["offset"]] + frame + data[end:], "%s at %d: %s (resealed, codec %d)" % (
            R.frame_name(fr["tag"]), fr["offset"], what, codec)
    if kind == 6:
        # damage inside the header bytes, length and CRC fixed
        hdr = head[16:-4]
        new, what = mutate_bytes(rng, hdr)
        version = int.from_bytes(head[8:10], "little")
        flags = int.from_bytes(head[10:12], "little")
        return R.encode_prefix(new, version, flags) + data[len(head):], "header: %s (resealed)" % what
    # kind 7: damage inside a zstd payload (or a stored one), CRC fixed
    fr = rng.choice(frames)
    zstd_damaged[0] = fr["codec"] == R.CODEC_ZSTD
    new, what = mutate_bytes(rng, fr["payload"])
    frame = R.encode_frame(fr["tag"], b"", codec=fr["codec"], record_count=fr["record_count"],
                           min_ts=fr["min_ts"], max_ts=fr["max_ts"], payload=new,
                           uncompressed_len=fr["uncompressed_len"])
    end = fr["offset"] + R.FRAME_HEADER_LEN + fr["payload_len"]
    return data[:fr["offset"]] + frame + data[end:], "%s payload at %d (codec %d): %s (resealed)" % (
        R.frame_name(fr["tag"]), fr["offset"], fr["codec"], what)


def damage_variants(log, n, seed, outdir):
    with open(log, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    base = os.path.basename(log).rsplit(".", 1)[0]
    parent = os.path.basename(os.path.dirname(os.path.abspath(log)))
    out = []
    for i in range(n):
        rng = random.Random("%s:%s:%d" % (seed, digest, i))
        zd = [False]
        try:
            bad, what = make_damaged(data, rng, zd)
        except ValueError:
            bad, what = data[:rng.randrange(max(len(data), 1))], "truncated (log did not split)"
        path = os.path.join(outdir, "%s-%s.%03d.rec" % (parent, base, i))
        with open(path, "wb") as f:
            f.write(bad)
        out.append((path, what, zd[0]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recorder", required=True, help="the recorder binary")
    ap.add_argument("--damage", type=int, default=0, metavar="N",
                    help="also compare N damaged variants of each log")
    ap.add_argument("--seed", default="0", help="seed of the damage (default 0)")
    ap.add_argument("--keep", metavar="DIR", help="copy differing damaged variants here")
    ap.add_argument("--strict", action="store_true",
                    help="count the known disagreements (README.md) as differences")
    ap.add_argument("-j", "--jobs", type=int, default=max(2, (os.cpu_count() or 1) * 2))
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per damaged variant")
    ap.add_argument("logs", nargs="+", metavar="LOG")
    args = ap.parse_args(argv)
    binary = os.path.abspath(args.recorder)
    t0 = time.time()
    failed = 0
    known_total = {}
    tmp = tempfile.mkdtemp(prefix="reference-reader-") if args.damage else None
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
    try:
        for log in args.logs:
            ok, msg, _, _ = compare_log(binary, log, args.strict)
            if not ok:
                failed += 1
                print("DIFF %s: %s" % (log, msg))
                continue
            if not args.damage:
                print("ok %s: %s" % (log, msg))
                continue
            variants = damage_variants(log, args.damage, args.seed, tmp)
            results = list(pool.map(lambda v: compare_log(binary, v[0], args.strict, v[2]), variants))
            bad = 0
            ends = {}
            known = {}
            for (path, what, _), (vok, vmsg, vstate, vknown) in zip(variants, results):
                ends[vstate] = ends.get(vstate, 0) + 1
                for k in set(vknown):
                    known[k] = known.get(k, 0) + 1
                if not vok:
                    bad += 1
                    kept = path
                    if args.keep:
                        os.makedirs(args.keep, exist_ok=True)
                        kept = shutil.copy(path, args.keep)
                    print("DIFF %s damaged (%s) [%s]: %s" % (log, what, kept, vmsg))
                elif args.verbose:
                    print("  ok %s (%s): %s" % (os.path.basename(path), what, vmsg))
                else:
                    os.unlink(path)
            summary = ", ".join("%s %d" % kv for kv in sorted(ends.items()))
            if known:
                summary += "; known disagreements in %s" % ", ".join(
                    "%d (%s)" % (n, k) for k, n in sorted(known.items()))
                for k in known:
                    known_total[k] = known_total.get(k, 0) + known[k]
            if bad:
                failed += 1
                print("DIFF %s: %s; %d of %d damaged variants differ (%s)"
                      % (log, msg, bad, args.damage, summary))
            else:
                print("ok %s: %s; %d damaged variants agree (%s)" % (log, msg, args.damage, summary))
    finally:
        pool.shutdown()
        if tmp and not failed:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp and not args.keep:
            print("damaged variants that differ are kept in %s" % tmp)
    print("%d logs, %d differ, %.1f s" % (len(args.logs), failed, time.time() - t0))
    for k, n in sorted(known_total.items()):
        print("known disagreement %s in %d damaged variants: %s" % (k, n, KNOWN[k]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
