#!/usr/bin/env python3
"""An independent reader of the `recorder` binary log format.

Written from docs/log-format.md alone (not from the Rust code), to check that
the specification suffices, and as an example for people writing their own
tools.  Standard library plus `zstandard` (Debian: python3-zstandard).

Library use:

    from recorder_log import LogReader
    with open("trace.rec", "rb") as f:
        r = LogReader(f)
        for ev in r.events():          # dicts shaped like `recorder dump --json`
            ...
        print(r.end)                   # how reading ended (§4)
        print(r.summary())             # header, trailer, skips, counts

CLI:  python3 recorder_log.py LOG   → one JSON object per event, then a
final {"type": "end", ...} summary.  Exit status 0 when the log ended
cleanly or without a trailer, 1 when it was truncated, corrupt or refused,
3 on an internal error (a bug in this reader).
"""

import json
import sys
import zlib

try:
    import zstandard
except ImportError:  # reported when a zstd frame is met, not at import
    zstandard = None

# --- constants (§1, §2, §4) -------------------------------------------------

MAGIC = b"\x89REC\r\n\x1a\n"
KNOWN_VERSIONS = (1, 2)
PREFIX_LEN = 16
FRAME_HEADER_LEN = 34
MAX_HEADER = 1 << 20          # 1 MiB
MAX_PAYLOAD = 16 << 20        # 16 MiB
MAX_UNCOMPRESSED = 64 << 20   # 64 MiB
TAG_BLOCK = 0x42              # 'B'
TAG_TRAILER = 0x54            # 'T'
CODEC_STORED = 0
CODEC_ZSTD = 1

KIND_SYSCALL, KIND_EXEC, KIND_FORK, KIND_EXIT, KIND_COUNTERS, KIND_SIGNAL, KIND_PAUSE, \
    KIND_WHO = range(8)
PAUSE_ENDS = {0: "resumed", 1: "left_stopped", 2: "gone"}
WHO_SOURCES = {0: "proc", 1: "exiting", 2: "kernel", 3: "gone"}
PROC_KINDS = {KIND_EXEC: "exec", KIND_FORK: "fork", KIND_EXIT: "exit"}
CAPTURE_KINDS = {0: "str", 1: "in", 2: "out"}
CRASH_SIGNALS = frozenset((4, 6, 7, 8, 11, 31))  # SIGILL SIGABRT SIGBUS SIGFPE SIGSEGV SIGSYS

COUNTER_FIELDS = (
    "emitted", "ring_full", "exit_without_entry", "stash_full", "died_in_call",
    "read_failed", "entered", "user_dropped", "written",
    "entry_data", "entry_data_lost", "paused",
)

U16_MAX = (1 << 16) - 1
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1


class DecodeError(Exception):
    """A postcard item that does not decode (damage or an incompatible writer)."""


# --- primitives (§5.1) ------------------------------------------------------

def crc32(data, value=0):
    """CRC-32/ISO-HDLC (§3); crc32(b"123456789") == 0xCBF43926."""
    return zlib.crc32(data, value) & 0xFFFFFFFF


def zigzag_decode(n):
    return (n >> 1) ^ -(n & 1)


def zigzag_encode(n):
    return ((n << 1) ^ (n >> 63)) & U64_MAX


def encode_varint(n):
    if n < 0:
        raise ValueError("varint of a negative number")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(buf, pos, end, max_bytes, max_value):
    """Unsigned LEB128 from buf[pos:end] → (value, new_pos).

    Raises DecodeError when the bytes end inside the number, when it is longer
    than max_bytes, or when it does not fit max_value (a 5-byte u32 varint
    with a last byte over 0x0f, §2.1)."""
    value = 0
    shift = 0
    for i in range(max_bytes):
        if pos >= end:
            raise DecodeError("ends inside a varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            if value > max_value:
                raise DecodeError("varint value %d out of range" % value)
            return value, pos
        shift += 7
    raise DecodeError("varint longer than %d bytes" % max_bytes)


ZERO_FILL = 256     # §5.1: zero bytes a reader supplies after an item


class Item:
    """Decoder for one length-delimited item (§5.1 zero-fill, §6).

    The item's bytes are buf[start:end].  As §5.1 says, an item that ends
    before the reader's last fields is decoded as if it were followed by
    zero bytes — ZERO_FILL of them; running past those is an error.  And an
    item whose last byte has the continuation bit set "stopped inside a
    number": damage.  That last rule is applied only when the decoding read
    zero-fill bytes (`finish()`), because valid items end in such bytes all
    the time (a data item's captured bytes, a UTF-8 string): see README.md,
    "Spec gaps".

    `nominal` is for an item nested in an item that is itself zero-filled (a
    v2 data item reaching past its record's end): its bytes from `end` to
    `nominal` are the outer item's zero-fill.
    """

    __slots__ = ("buf", "pos", "start", "end", "nominal", "limit")

    def __init__(self, buf, start, end, nominal=None):
        self.buf = buf
        self.pos = start
        self.start = start
        self.end = end
        self.nominal = end if nominal is None else nominal
        self.limit = self.nominal + ZERO_FILL

    def used_fill(self):
        return self.pos > self.end

    def u8(self):
        p = self.pos
        if p < self.end:
            v = self.buf[p]
        elif p < self.limit:
            v = 0
        else:
            raise DecodeError("item ends inside a field (past the zero-fill)")
        self.pos = p + 1
        return v

    def raw(self, n):
        p = self.pos
        if n > self.limit - p:
            raise DecodeError("item ends inside a field (past the zero-fill)")
        self.pos = p + n
        if p + n <= self.end:
            return bytes(self.buf[p:p + n])
        if p >= self.end:
            return bytes(n)
        return bytes(self.buf[p:self.end]) + bytes(p + n - self.end)

    def varint(self, max_bytes, max_value):
        if self.pos + max_bytes <= self.end:      # fast path: all real bytes
            v, self.pos = read_varint(self.buf, self.pos, self.end, max_bytes, max_value)
            return v
        value = 0
        shift = 0
        for _ in range(max_bytes):
            b = self.u8()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                if value > max_value:
                    raise DecodeError("varint value %d out of range" % value)
                return value
            shift += 7
        raise DecodeError("varint longer than %d bytes" % max_bytes)

    def u16(self):
        return self.varint(3, U16_MAX)

    def u32(self):
        return self.varint(5, U32_MAX)

    def u64(self):
        return self.varint(10, U64_MAX)

    def i64(self):
        return zigzag_decode(self.u64())

    def usize(self):
        # postcard encodes usize as a u64 varint; this format's lengths fit a u32
        return self.varint(10, U64_MAX)

    def bool(self):
        b = self.u8()
        if b > 1:
            raise DecodeError("invalid bool byte 0x%02x" % b)
        return b == 1

    def bytes_(self):
        n = self.usize()
        if n > self.limit - self.pos:
            raise DecodeError("byte string of %d bytes longer than its item" % n)
        return self.raw(n)

    def string(self):
        b = self.bytes_()
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("string is not valid UTF-8")

    def option(self, read):
        tag = self.u8()
        if tag > 1:
            raise DecodeError("invalid Option tag 0x%02x" % tag)
        return read() if tag else None

    def vec(self, read):
        n = self.usize()
        if n > self.limit - self.pos:   # every element takes at least one byte
            raise DecodeError("list of %d elements longer than its item" % n)
        return [read() for _ in range(n)]

    def array(self, n, read):
        return [read() for _ in range(n)]

    def finish(self):
        """§5.1: "an item whose last byte has the varint continuation bit (0x80)
        set stopped inside a number: that is damage" — when zero-fill was read."""
        last = self.nominal - 1
        if (self.pos > self.nominal and self.start <= last < self.end
                and self.buf[last] & 0x80):
            raise DecodeError("item stopped inside a number (its last byte has the "
                              "continuation bit set)")


# --- the types (§5.2) -------------------------------------------------------

def decode_header(buf, start, end):
    d = Item(buf, start, end)
    h = {}
    h["recorder_version"] = d.string()
    h["arch"] = d.string()
    h["kernel_release"] = d.string()
    h["hostname"] = d.string()
    h["page_size"] = d.u32()
    h["realtime_offset_ns"] = d.i64()
    h["boottime_offset_ns"] = d.i64()
    h["start_wall_ns"] = d.u64()
    h["start_mono_ns"] = d.u64()
    h["command_line"] = d.vec(d.string)
    filt = {}
    filt["pids"] = d.vec(d.u32)
    filt["comms"] = d.vec(d.string)
    filt["command"] = d.vec(d.string)
    filt["follow_forks"] = d.bool()
    h["filter"] = filt
    h["capture_size"] = d.u32()
    h["ring_size"] = d.u32()
    h["redactions"] = d.vec(d.string)
    h["format_minor"] = d.u16()
    h["lossless"] = d.bool()
    h["trace"] = d.vec(d.string)
    h["traced_nrs"] = d.vec(d.i64)
    h["lean"] = d.bool()
    h["replayable"] = d.bool()
    h["watch"] = d.bool()
    d.finish()
    return h


def decode_counters(d):
    return {name: d.u64() for name in COUNTER_FIELDS}


def decode_trailer(buf, start, end):
    d = Item(buf, start, end)
    t = {"end_wall_ns": d.u64(), "end_mono_ns": d.u64(), "counters": decode_counters(d)}
    d.finish()
    return t


class Skips:
    """What decoding skipped: unknown event kinds and data item kinds → counts."""

    def __init__(self):
        self.skipped_events = {}
        self.skipped_items = {}


def decode_capture(d, version, ctx):
    """One data item → dict, or None when skipped (v2, unknown kind)."""
    if version == 1:
        # §8: Captures inline in the list (no length prefix); an unknown kind is damage
        arg = d.u8()
        kind = d.u32()
        if kind not in CAPTURE_KINDS:
            raise DecodeError("data item of unknown kind %d in a version 1 log" % kind)
        item = d
    else:
        # §5.2: varint(Li) || item, each item zero-filled on its own
        li = d.usize()
        p = d.pos
        d.raw(li)                           # step over it (within the record's zero-fill)
        item = Item(d.buf, p, min(p + li, d.end), p + li)
        arg = item.u8()
        kind = item.u32()
        if kind not in CAPTURE_KINDS:
            item.finish()
            ctx.skipped_items[kind] = ctx.skipped_items.get(kind, 0) + 1
            return None
    c = {"arg": arg, "kind": CAPTURE_KINDS[kind]}
    c["len"] = item.u64()
    c["truncated"] = item.bool()
    c["read_failed"] = item.bool()
    c["hex"] = item.bytes_().hex()
    if item is not d:
        item.finish()
    return c


def is_lean(ctx):
    """Whether the log being read is a lean one (Header.lean, revision 3)."""
    header = getattr(ctx, "header", None)
    return bool(header and header.get("lean"))


def decode_syscall(d, version, ctx):
    tgid = d.u32()
    tid = d.u32()
    seq = d.u64()
    cpu = d.u32()
    nr = d.i64()
    args = d.array(6, d.u64)
    ret = d.option(d.i64)
    enter_ns = d.u64()
    exit_ns = d.option(d.u64)
    died = d.bool()
    if version >= 2 and d.pos >= d.end:
        data = []       # §5.2: a record that ends before its list has no items
    else:
        data = [c for c in d.vec(lambda: decode_capture(d, version, ctx)) if c is not None]
        if version >= 2 and d.used_fill():
            # §5.1: in format 2 the list's count and item lengths must be whole
            raise DecodeError("record ends inside its data list")
    return {
        "type": "syscall",
        "ts_ns": enter_ns,
        "pid": tgid,
        "tid": tid,
        "seq": seq,
        "cpu": cpu,
        "nr": nr,
        "args": args,
        "ret": ret,
        # json-output.md: exit time minus entry time (0 if the log has the
        # exit first); null without an exit time, and in a lean log (§5.2
        # Header.lean: one timestamp, no durations)
        "dur_ns": max(0, exit_ns - enter_ns)
        if exit_ns is not None and not is_lean(ctx) else None,
        "died_in_call": died,
        "data": data,
    }


def decode_proc(d, kind):
    tgid = d.u32()
    tid = d.u32()
    ts = d.u64()
    cpu = d.u32()
    aux = d.u32()
    comm = d.string()
    ev = {"type": PROC_KINDS[kind], "ts_ns": ts, "pid": tgid, "tid": tid, "cpu": cpu, "comm": comm}
    if kind == KIND_EXEC:
        ev["old_tid"] = aux
    elif kind == KIND_FORK:
        ev["child"] = aux
    else:
        ev["group_dead"] = True if aux == 1 else False if aux == 0 else None
    return ev


def decode_signal(d):
    tgid = d.u32()
    tid = d.u32()
    ts = d.u64()
    cpu = d.u32()
    sig = d.u32()
    default_action = d.bool()
    comm = d.string()
    return {"type": "signal", "ts_ns": ts, "pid": tgid, "tid": tid, "cpu": cpu, "comm": comm,
            "sig": sig, "default_action": default_action,
            "crash": default_action and sig in CRASH_SIGNALS}


def decode_pause(d):
    tgid = d.u32()
    start = d.u64()
    end = d.u64()
    ring_bytes = d.u64()
    how = d.u32()
    return {"type": "pause", "ts_ns": start, "pid": tgid, "end_ns": end,
            "dur_ns": max(0, end - start), "ring_bytes": ring_bytes,
            "end": PAUSE_ENDS.get(how, "unknown")}


def decode_who(d):
    ev = {"type": "who"}
    ev["pid"] = d.u32()
    ev["tid"] = d.u32()
    ev["ts_ns"] = d.u64()
    ev["comm"] = d.string()
    ev["uid"] = d.u32()
    ev["gid"] = d.u32()
    ev["exe"] = d.string()
    ev["source"] = WHO_SOURCES.get(d.u32(), "unknown")
    ev["cgroup"] = d.string()
    ev["cgroup_id"] = d.u64()
    ev["parents"] = d.vec(lambda: {"pid": d.u32(), "comm": d.string()})
    return ev


def decode_record(buf, start, end, version, ctx):
    """Decode one record's L bytes (kind and body) → event dict, or None if
    skipped (counted in ctx, a Skips)."""
    d = Item(buf, start, end)
    kind = d.u32()
    if kind == KIND_SYSCALL:
        ev = decode_syscall(d, version, ctx)
    elif kind in PROC_KINDS:
        ev = decode_proc(d, kind)
    elif kind == KIND_COUNTERS:
        ev = {"type": "counters"}
        ev.update(decode_counters(d))
    elif kind == KIND_SIGNAL:
        ev = decode_signal(d)
    elif kind == KIND_PAUSE:
        ev = decode_pause(d)
    elif kind == KIND_WHO:
        ev = decode_who(d)
    else:
        d.finish()      # a kind varint cut by the record's end is damage
        ctx.skipped_events[kind] = ctx.skipped_events.get(kind, 0) + 1
        return None
    d.finish()
    return ev


# --- zstd (§3) --------------------------------------------------------------

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def zstd_frame_size(data):
    """Compressed size of the zstd frame at the start of data (RFC 8878 §3.1.1)."""
    n = len(data)
    if n < 5 or data[:4] != ZSTD_MAGIC:
        raise DecodeError("payload is not a zstd frame (bad magic)")
    fhd = data[4]
    if fhd & 0x08:
        raise DecodeError("zstd frame header has the reserved bit set")
    fcs_flag = fhd >> 6
    single = (fhd >> 5) & 1
    checksum = (fhd >> 2) & 1
    did = (0, 1, 2, 4)[fhd & 3]
    fcs = (single, 2, 4, 8)[fcs_flag]
    p = 5 + (0 if single else 1) + did + fcs
    while True:
        if p + 3 > n:
            raise DecodeError("zstd frame ends inside a block header")
        bh = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16)
        p += 3
        last = bh & 1
        btype = (bh >> 1) & 3
        bsize = bh >> 3
        if btype == 3:
            raise DecodeError("zstd block of reserved type")
        p += 1 if btype == 1 else bsize
        if p > n:
            raise DecodeError("zstd frame ends inside a block")
        if last:
            break
    if checksum:
        p += 4
        if p > n:
            raise DecodeError("zstd frame ends inside its checksum")
    return p


def zstd_decompress(payload, expected):
    if zstandard is None:
        raise DecodeError("zstd payload but the zstandard module is not installed")
    size = zstd_frame_size(payload)
    if size != len(payload):
        raise DecodeError("payload is not a single zstd frame (%d bytes after the first frame)"
                          % (len(payload) - size))
    try:
        fcs = zstandard.get_frame_parameters(payload).content_size
    except Exception as e:   # ZstdError; whatever the library raises on bad input
        raise DecodeError("zstd frame header: %s" % e)
    if fcs != zstandard.CONTENTSIZE_UNKNOWN and fcs != expected:
        raise DecodeError("zstd frame content size %d differs from the uncompressed length %d"
                          % (fcs, expected))
    try:
        # bounded: with no content size in the frame, python-zstandard allocates
        # max_output_size and fails if more would come out
        out = zstandard.ZstdDecompressor().decompress(payload, max_output_size=max(expected, 1))
    except Exception as e:   # ZstdError; whatever the library raises on bad input
        raise DecodeError("decompression failed: %s" % e)
    if len(out) != expected:
        raise DecodeError("decompressed to %d bytes, uncompressed length says %d"
                          % (len(out), expected))
    return out


# --- the container (§1, §2, §4) ---------------------------------------------

def frame_name(tag):
    if tag == TAG_BLOCK:
        return "block"
    if tag == TAG_TRAILER:
        return "trailer"
    return "frame"


class LogReader(Skips):
    """Reads a log from a binary file object, one frame in memory at a time.

    Iterate `events()`; afterwards `end` says how reading ended:
    {"state": S, "where": W, "offset": O, "message": M, ...} with S one of
    clean, no_trailer, truncated, corrupt (§4), or for a file refused before
    its frames: empty, not_a_log, unsupported_version, unsupported_flags (and
    truncated / corrupt with where = prefix or header).  Truncations also
    carry "needed" and "remained" (bytes).
    """

    def __init__(self, f):
        self.f = f
        self.version = None
        self.flags = None
        self.header = None
        self.trailer = None
        self.end = None
        Skips.__init__(self)           # skipped_events, skipped_items: kind → count
        self.skipped_frames = {}       # tag → count
        self.counts = {}               # event type → count delivered
        self._consumed = False

    # helpers
    def _read(self, n):
        chunks = []
        while n > 0:
            b = self.f.read(n)
            if not b:
                break
            chunks.append(b)
            n -= len(b)
        return b"".join(chunks)

    def _stop(self, state, where, offset, message, **extra):
        self.end = dict(state=state, where=where, offset=offset, message=message, **extra)

    def _truncated(self, where, offset, needed, remained):
        self._stop("truncated", where, offset,
                   "truncated %s at offset %d: needs %d bytes, only %d remain"
                   % (where, offset, needed, remained), needed=needed, remained=remained)

    def _corrupt(self, where, offset, reason, **extra):
        self._stop("corrupt", where, offset, "corrupt %s at offset %d: %s" % (where, offset, reason),
                   reason=reason, **extra)

    # reading
    def read_prefix(self):
        """Prefix and header (§1). Returns True if frames follow."""
        pre = self._read(PREFIX_LEN)
        if not pre:
            self._stop("empty", "prefix", 0, "empty file")
            return False
        n = min(len(pre), 8)
        if pre[:n] != MAGIC[:n]:
            self._stop("not_a_log", "prefix", 0, "not a recorder log (bad magic)")
            return False
        if len(pre) >= 10:
            version = pre[8] | (pre[9] << 8)
            if version not in KNOWN_VERSIONS:
                self.version = version
                self._stop("unsupported_version", "prefix", 0,
                           "unsupported format version %d (this reader reads versions 1 to 2; "
                           "a newer reader is needed)" % version, version=version)
                return False
        if len(pre) < PREFIX_LEN:
            self._truncated("prefix", 0, PREFIX_LEN, len(pre))
            return False
        self.version = pre[8] | (pre[9] << 8)
        self.flags = pre[10] | (pre[11] << 8)
        hlen = int.from_bytes(pre[12:16], "little")
        if hlen > MAX_HEADER:
            self._corrupt("header", 16, "header length %d over the limit of %d" % (hlen, MAX_HEADER))
            return False
        rest = self._read(hlen + 4)
        if len(rest) < hlen + 4:
            self._truncated("header", 16, hlen + 4, len(rest))
            return False
        stored = int.from_bytes(rest[hlen:], "little")
        computed = crc32(rest[:hlen], crc32(pre[8:16]))
        if stored != computed:
            self._corrupt("header", 16, "checksum mismatch (stored 0x%08x, computed 0x%08x)"
                          % (stored, computed))
            return False
        if self.flags != 0:
            self._stop("unsupported_flags", "prefix", 0,
                       "unsupported format flags 0x%04x (this reader knows no flags)" % self.flags,
                       flags=self.flags)
            return False
        try:
            self.header = decode_header(rest, 0, hlen)
        except DecodeError as e:
            self._corrupt("header", 16, "header does not decode: %s" % e)
            return False
        self.offset = PREFIX_LEN + hlen + 4
        return True

    def events(self):
        """Yield the events (dicts) in log order; sets self.end when done."""
        if self._consumed:
            raise RuntimeError("events() can be iterated once")
        self._consumed = True
        if not self.read_prefix():
            return
        while True:
            off = self.offset
            fh = self._read(FRAME_HEADER_LEN)
            if not fh:
                self._stop("no_trailer", "frame", off,
                           "ends at offset %d without a trailer (recording was cut short)" % off)
                return
            where = frame_name(fh[0])
            if len(fh) < FRAME_HEADER_LEN:
                self._truncated(where, off, FRAME_HEADER_LEN, len(fh))
                return
            tag = fh[0]
            codec = fh[1]
            plen = int.from_bytes(fh[2:6], "little")
            ulen = int.from_bytes(fh[6:10], "little")
            rcount = int.from_bytes(fh[10:14], "little")
            stored_crc = int.from_bytes(fh[30:34], "little")
            if plen > MAX_PAYLOAD:
                self._corrupt(where, off, "payload length %d over the limit of %d" % (plen, MAX_PAYLOAD))
                return
            if ulen > MAX_UNCOMPRESSED:
                self._corrupt(where, off, "uncompressed length %d over the limit of %d"
                              % (ulen, MAX_UNCOMPRESSED))
                return
            payload = self._read(plen)
            if len(payload) < plen:
                self._truncated(where, off, FRAME_HEADER_LEN + plen, FRAME_HEADER_LEN + len(payload))
                return
            computed = crc32(payload, crc32(fh[:30]))
            if computed != stored_crc:
                self._corrupt(where, off, "checksum mismatch (stored 0x%08x, computed 0x%08x)"
                              % (stored_crc, computed))
                return
            self.offset = off + FRAME_HEADER_LEN + plen
            if tag not in (TAG_BLOCK, TAG_TRAILER):
                # §4, §6: unknown tag: limits and CRC only, then skipped
                self.skipped_frames[tag] = self.skipped_frames.get(tag, 0) + 1
                continue
            if codec == CODEC_STORED:
                if ulen != plen:
                    self._corrupt(where, off, "stored frame with uncompressed length %d "
                                  "different from its payload length %d" % (ulen, plen))
                    return
                data = payload
            elif codec == CODEC_ZSTD:
                try:
                    data = zstd_decompress(payload, ulen)
                except DecodeError as e:
                    self._corrupt(where, off, str(e))
                    return
            else:
                self._corrupt(where, off, "unknown codec %d" % codec)
                return
            del payload
            if tag == TAG_TRAILER:
                try:
                    self.trailer = decode_trailer(data, 0, len(data))
                except DecodeError as e:
                    self._corrupt(where, off, "trailer does not decode: %s" % e)
                    return
                self._stop("clean", "trailer", off, "complete (trailer present)")
                return
            # events block (§2.1): check the framing first
            err = self._walk(data, rcount)
            if err:
                self._corrupt(where, off, err)
                return
            p = 0
            n = len(data)
            for index in range(rcount):
                length, p = read_varint(data, p, n, 5, U32_MAX)
                try:
                    ev = decode_record(data, p, p + length, self.version, self)
                except DecodeError as e:
                    self._corrupt(where, off, "record %d (byte %d of the block) does not decode: %s"
                                  % (index, p, e), record_index=index, record_byte=p)
                    return
                p += length
                if ev is not None:
                    t = ev["type"]
                    self.counts[t] = self.counts.get(t, 0) + 1
                    yield ev

    @staticmethod
    def _walk(data, rcount):
        p = 0
        n = len(data)
        count = 0
        while p < n:
            if count == rcount:
                return "records do not fill the block: %d bytes left after %d records" % (n - p, rcount)
            try:
                length, p = read_varint(data, p, n, 5, U32_MAX)
            except DecodeError as e:
                return "record %d: bad length: %s" % (count, e)
            if length < 1 or length > n - p:
                return "record %d: length %d does not fit the %d bytes left" % (count, length, n - p)
            p += length
            count += 1
        if count != rcount:
            return "block holds %d records, its header says %d" % (count, rcount)
        return None

    def read_all(self):
        """Consume the events, discarding them; returns the summary."""
        for _ in self.events():
            pass
        return self.summary()

    def summary(self):
        events = sum(v for k, v in self.counts.items() if k != "counters")
        return {
            "type": "end",
            "format_version": self.version,
            "format_minor": self.header["format_minor"] if self.header else None,
            "header": self.header,
            "end": self.end,
            "trailer": self.trailer,
            "records": events,
            "counts": dict(sorted(self.counts.items())),
            "skipped_events": {
                "total": sum(self.skipped_events.values()),
                "kinds": {str(k): v for k, v in sorted(self.skipped_events.items())},
            },
            "skipped_data_items": {
                "total": sum(self.skipped_items.values()),
                "kinds": {str(k): v for k, v in sorted(self.skipped_items.items())},
            },
            "skipped_frames": {
                "total": sum(self.skipped_frames.values()),
                "tags": {"0x%02x" % k: v for k, v in sorted(self.skipped_frames.items())},
            },
        }


# --- writing (for crafting test logs: make_future_log.py, compare.py --damage,
# the self-test) ---------------------------------------------------------------

def enc_u(n):
    return encode_varint(n)


def enc_i64(n):
    return encode_varint(zigzag_encode(n))


def enc_bool(b):
    return b"\x01" if b else b"\x00"


def enc_bytes(b):
    return encode_varint(len(b)) + bytes(b)


def enc_str(s):
    return enc_bytes(s.encode("utf-8"))


def enc_vec(items, enc):
    return encode_varint(len(items)) + b"".join(enc(x) for x in items)


def encode_header(h):
    f = h["filter"]
    out = b"".join((
        enc_str(h["recorder_version"]), enc_str(h["arch"]), enc_str(h["kernel_release"]),
        enc_str(h["hostname"]), enc_u(h["page_size"]), enc_i64(h["realtime_offset_ns"]),
        enc_i64(h["boottime_offset_ns"]), enc_u(h["start_wall_ns"]), enc_u(h["start_mono_ns"]),
        enc_vec(h["command_line"], enc_str),
        enc_vec(f["pids"], enc_u), enc_vec(f["comms"], enc_str), enc_vec(f["command"], enc_str),
        enc_bool(f["follow_forks"]),
        enc_u(h["capture_size"]), enc_u(h["ring_size"]), enc_vec(h["redactions"], enc_str),
    ))
    if "format_minor" in h:
        out += enc_u(h["format_minor"])
    if "lossless" in h:
        out += enc_bool(h["lossless"])
    if "trace" in h:
        out += enc_vec(h["trace"], enc_str)
    if "traced_nrs" in h:
        out += enc_vec(h["traced_nrs"], enc_i64)
    if "lean" in h:
        out += enc_bool(h["lean"])
    if "replayable" in h:
        out += enc_bool(h["replayable"])
    if "watch" in h:
        out += enc_bool(h["watch"])
    return out


def encode_counters(c):
    return b"".join(enc_u(c[k]) for k in COUNTER_FIELDS if k in c)


def encode_trailer(t):
    return enc_u(t["end_wall_ns"]) + enc_u(t["end_mono_ns"]) + encode_counters(t["counters"])


def encode_capture(c, version):
    kind = c["kind"] if isinstance(c["kind"], int) else \
        {v: k for k, v in CAPTURE_KINDS.items()}[c["kind"]]
    body = bytes([c["arg"]]) + enc_u(kind) + enc_u(c["len"]) + enc_bool(c["truncated"]) + \
        enc_bool(c["read_failed"]) + enc_bytes(bytes.fromhex(c["hex"]))
    return body if version == 1 else enc_bytes(body)


def encode_event(ev, version=2):
    """Event dict (as LogReader yields) → kind varint and body (no record length)."""
    t = ev["type"]
    if t == "syscall":
        ret = ev["ret"]
        exit_ns = None if ev["dur_ns"] is None else ev["ts_ns"] + ev["dur_ns"]
        if exit_ns is None and ret is not None and not ev["died_in_call"]:
            exit_ns = ev["ts_ns"]   # a lean log's call: its one timestamp is both
        body = b"".join((
            enc_u(KIND_SYSCALL), enc_u(ev["pid"]), enc_u(ev["tid"]), enc_u(ev["seq"]),
            enc_u(ev["cpu"]), enc_i64(ev["nr"]), b"".join(enc_u(a) for a in ev["args"]),
            b"\x00" if ret is None else b"\x01" + enc_i64(ret), enc_u(ev["ts_ns"]),
            b"\x00" if exit_ns is None else b"\x01" + enc_u(exit_ns), enc_bool(ev["died_in_call"]),
            encode_varint(len(ev["data"])),
            b"".join(encode_capture(c, version) for c in ev["data"]),
        ))
        return body
    if t in ("exec", "fork", "exit"):
        kind = {"exec": KIND_EXEC, "fork": KIND_FORK, "exit": KIND_EXIT}[t]
        aux = ev["old_tid"] if t == "exec" else ev["child"] if t == "fork" else \
            {True: 1, False: 0, None: 2}[ev["group_dead"]]
        return b"".join((enc_u(kind), enc_u(ev["pid"]), enc_u(ev["tid"]), enc_u(ev["ts_ns"]),
                         enc_u(ev["cpu"]), enc_u(aux), enc_str(ev["comm"])))
    if t == "signal":
        return b"".join((enc_u(KIND_SIGNAL), enc_u(ev["pid"]), enc_u(ev["tid"]), enc_u(ev["ts_ns"]),
                         enc_u(ev["cpu"]), enc_u(ev["sig"]), enc_bool(ev["default_action"]),
                         enc_str(ev["comm"])))
    if t == "counters":
        return enc_u(KIND_COUNTERS) + encode_counters(ev)
    if t == "who":
        source = {v: k for k, v in WHO_SOURCES.items()}[ev["source"]]
        return b"".join((enc_u(KIND_WHO), enc_u(ev["pid"]), enc_u(ev["tid"]), enc_u(ev["ts_ns"]),
                         enc_str(ev["comm"]), enc_u(ev["uid"]), enc_u(ev["gid"]),
                         enc_str(ev["exe"]), enc_u(source), enc_str(ev["cgroup"]),
                         enc_u(ev["cgroup_id"]),
                         enc_vec(ev["parents"], lambda p: enc_u(p["pid"]) + enc_str(p["comm"]))))
    raise ValueError("unknown event type %r" % t)


def encode_record(kind_and_body):
    return encode_varint(len(kind_and_body)) + kind_and_body


def encode_prefix(header_bytes, version=2, flags=0):
    pre = version.to_bytes(2, "little") + flags.to_bytes(2, "little") + \
        len(header_bytes).to_bytes(4, "little")
    return MAGIC + pre + header_bytes + crc32(header_bytes, crc32(pre)).to_bytes(4, "little")


def encode_frame(tag, data, codec=CODEC_STORED, record_count=0, min_ts=0, max_ts=0,
                 payload=None, uncompressed_len=None):
    """One frame.  With codec 1 the data is zstd-compressed (with its content size)
    unless `payload` is given; `uncompressed_len` overrides the field."""
    if payload is None:
        if codec == CODEC_ZSTD:
            payload = zstandard.ZstdCompressor(level=3, write_content_size=True).compress(data)
        else:
            payload = data
    ulen = len(data) if uncompressed_len is None else uncompressed_len
    fh = bytes((tag, codec)) + len(payload).to_bytes(4, "little") + ulen.to_bytes(4, "little") + \
        record_count.to_bytes(4, "little") + min_ts.to_bytes(8, "little") + max_ts.to_bytes(8, "little")
    return fh + crc32(payload, crc32(fh)).to_bytes(4, "little") + payload


def split_log(data):
    """Split a well-formed log's bytes → (prefix_and_header_bytes, [frame dict]).

    Each frame dict: offset, tag, codec, payload_len, uncompressed_len,
    record_count, min_ts, max_ts, payload, and `data` (the decompressed data,
    for B and T frames).  For crafting tools; raises ValueError on damage."""
    hlen = int.from_bytes(data[12:16], "little")
    off = PREFIX_LEN + hlen + 4
    head = data[:off]
    frames = []
    while off + FRAME_HEADER_LEN <= len(data):
        fh = data[off:off + FRAME_HEADER_LEN]
        plen = int.from_bytes(fh[2:6], "little")
        fr = dict(offset=off, tag=fh[0], codec=fh[1], payload_len=plen,
                  uncompressed_len=int.from_bytes(fh[6:10], "little"),
                  record_count=int.from_bytes(fh[10:14], "little"),
                  min_ts=int.from_bytes(fh[14:22], "little"),
                  max_ts=int.from_bytes(fh[22:30], "little"),
                  payload=data[off + FRAME_HEADER_LEN:off + FRAME_HEADER_LEN + plen])
        if len(fr["payload"]) != plen:
            raise ValueError("truncated frame at %d" % off)
        if fr["tag"] in (TAG_BLOCK, TAG_TRAILER):
            if fr["codec"] == CODEC_ZSTD:
                try:
                    fr["data"] = zstd_decompress(fr["payload"], fr["uncompressed_len"])
                except DecodeError as e:
                    raise ValueError("frame at %d: %s" % (off, e))
            else:
                fr["data"] = fr["payload"]
        frames.append(fr)
        off += FRAME_HEADER_LEN + plen
        if fr["tag"] == TAG_TRAILER:
            break
    return head, frames


def split_records(block_data):
    """A block's data → list of records' kind-and-body bytes."""
    out = []
    p = 0
    while p < len(block_data):
        n, p = read_varint(block_data, p, len(block_data), 5, U32_MAX)
        out.append(bytes(block_data[p:p + n]))
        p += n
    return out


def read_log(path):
    """Convenience: (list of events, summary) of the log at path."""
    with open(path, "rb") as f:
        r = LogReader(f)
        evs = list(r.events())
        return evs, r.summary()


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: recorder_log.py LOG\n\nPrints the log's events as JSON lines, then a summary "
              "line {\"type\": \"end\", ...}.", file=sys.stderr)
        return 2
    path = argv[0]
    out = sys.stdout
    try:
        f = open(path, "rb")
    except OSError as e:
        print("recorder_log.py: %s" % e, file=sys.stderr)
        return 2
    with f:
        r = LogReader(f)
        try:
            for ev in r.events():
                out.write(dumps(ev))
                out.write("\n")
        except BrokenPipeError:
            return 1
        except Exception as e:  # a bug in this reader, never malformed input
            r.end = dict(state="internal_error", where="reader", offset=None,
                         message="internal error: %r" % (e,))
        out.write(dumps(r.summary()))
        out.write("\n")
        out.flush()
    state = r.end["state"]
    if state == "internal_error":
        return 3
    return 0 if state in ("clean", "no_trailer") else 1


if __name__ == "__main__":
    sys.exit(main())
