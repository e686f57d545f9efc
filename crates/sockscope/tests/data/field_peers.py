"""Devices that are not ours, written from the standards' text (not from SockScope's specs):
a JT/T 808-2013 terminal and an HJ 212-2017 monitor. Usage: field_peers.py MODE PORT.
jt808, hj212: connect to 127.0.0.1:PORT, send the frames in one write, and close.
jt808-terminal, hj212-monitor: a device's conversation with a platform, each answer checked
(exit 1 if not)."""
import socket
import struct
import sys
import time


def jt808_frame(msg_id, phone, serial, body):
    # 4.4: header = message id, body properties (length in bits 0-9), BCD[6] phone, serial.
    head = struct.pack(">HH", msg_id, len(body) & 0x3FF) + bytes.fromhex(phone) + struct.pack(">H", serial)
    check = 0
    for b in head + body:  # 4.4.5: XOR of header and body
        check ^= b
    raw = head + body + bytes([check])
    # 4.4.2: 0x7d -> 0x7d 0x01 first, then 0x7e -> 0x7d 0x02
    escaped = raw.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")
    return b"\x7e" + escaped + b"\x7e"


def jt808():
    phone = "013912344329"
    register = (
        struct.pack(">HH", 44, 300)
        + b"SSCOP"
        + b"T808-TEST".ljust(20, b"\0")
        + b"ID12345"
        + bytes([1])
        + "粤B12345".encode("gbk")
    )
    location = (
        struct.pack(">IIIIHHH", 0x00000001, 0x00000003, 22543210, 113945678, 35, 600, 90)
        + bytes.fromhex("260107123456")
        + bytes([0x01, 4])
        + struct.pack(">I", 12345)
        + bytes([0x02, 2])
        + struct.pack(">H", 0x7E7D)
    )
    return jt808_frame(0x0100, phone, 1, register) + jt808_frame(0x0200, phone, 0x7E7D, location)


def hj212_crc(data):
    # HJ 212-2017 appendix A: CRC register 0xFFFF; per byte: register >> 8 XOR byte, then
    # eight shifts right, XOR 0xA001 when the bit shifted out was 1.
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def hj212():
    data = (
        "QN=20260107120000123;ST=22;CN=2011;PW=123456;MN=SSCOPE00000001;Flag=5;"
        "CP=&&DataTime=20260107120000;a34004-Rtd=36.91,a34004-Flag=N;a21026-Rtd=12.5,a21026-Flag=N&&"
    )
    raw = data.encode()
    return b"##%04d%s%04X\r\n" % (len(raw), raw, hj212_crc(raw))


def connect(port):
    deadline = time.monotonic() + 5
    while True:  # the listener may still be starting
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


class Jt808Reader:
    """Frames from a platform: 7E-delimited, unescaped (4.4.2), XOR checked (4.4.5)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def frame(self):
        while True:
            start = self.buf.find(b"\x7e")
            end = self.buf.find(b"\x7e", start + 1) if start >= 0 else -1
            if start >= 0 and end == start + 1:  # an end flag, then a start flag
                self.buf = self.buf[end:]
                continue
            if start >= 0 and end > start + 1:
                raw = self.buf[start + 1 : end]
                self.buf = self.buf[end + 1 :]
                break
            chunk = self.sock.recv(4096)
            if not chunk:
                fail("the platform closed the connection")
            self.buf += chunk
        if b"\x7d\x03" in raw or raw.endswith(b"\x7d"):
            fail("a bad escape in " + raw.hex())
        data = raw.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
        check = 0
        for b in data[:-1]:
            check ^= b
        if check != data[-1]:
            fail("XOR %02X, frame says %02X: %s" % (check, data[-1], data.hex()))
        msg_id, props = struct.unpack(">HH", data[:4])
        if props & 0x4000:
            fail("a 2019 header to a 2013 terminal")
        phone = data[4:10].hex()
        (serial,) = struct.unpack(">H", data[10:12])
        body = data[12:-1]
        if len(body) != props & 0x3FF:
            fail("body length %d, properties say %d" % (len(body), props & 0x3FF))
        return msg_id, phone, serial, body


def jt808_terminal(port):
    """A terminal's session (8.3, 8.4, 8.5, 8.18): register, authenticate with the code the
    platform gave, report a location whose serial is 7E 7D, send a heartbeat; each answer is
    checked field by field and printed."""
    phone = "013912344329"
    register = (
        struct.pack(">HH", 44, 300) + b"SSCOP" + b"T808-TEST".ljust(20, b"\0")
        + b"ID12345" + bytes([1]) + "粤B12345".encode("gbk")
    )
    location = (
        struct.pack(">IIIIHHH", 0, 3, 22543210, 113945678, 35, 600, 90)
        + bytes.fromhex("260107123456")
        + bytes([0x01, 4]) + struct.pack(">I", 12345)
    )
    with connect(port) as s:
        r = Jt808Reader(s)
        s.sendall(jt808_frame(0x0100, phone, 1, register))
        msg_id, got_phone, serial, body = r.frame()
        if msg_id != 0x8100 or got_phone != phone:
            fail("registration answered by %04X for %s" % (msg_id, got_phone))
        reply_serial, result = struct.unpack(">HB", body[:3])
        token = body[3:]
        if reply_serial != 1 or result != 0 or not token:
            fail("8100: serial %d result %d code %r" % (reply_serial, result, token))
        print("8100 reply_serial=%d result=%d token=%s platform_serial=%d"
              % (reply_serial, result, token.decode(), serial))
        for msg, serial, body in [
            (0x0102, 2, token),
            (0x0200, 0x7E7D, location),
            (0x0002, 4, b""),
        ]:
            s.sendall(jt808_frame(msg, phone, serial, body))
            msg_id, got_phone, platform_serial, reply = r.frame()
            if msg_id != 0x8001 or got_phone != phone or len(reply) != 5:
                fail("%04X answered by %04X %s %s" % (msg, msg_id, got_phone, reply.hex()))
            reply_serial, reply_id, result = struct.unpack(">HHB", reply)
            print("8001 reply_serial=%d reply_id=%04X result=%d platform_serial=%d"
                  % (reply_serial, reply_id, result, platform_serial))
            if (reply_serial, reply_id, result) != (serial, msg, 0):
                fail("%04X #%d answered for %04X #%d, result %d"
                     % (msg, serial, reply_id, reply_serial, result))
    print("OK")


def hj212_reader(sock):
    """Frames from a platform: ## + 4-digit length + data + 4 hex CRC (the standard's own,
    appendix A) + CR LF; each checked, its data segment's fields as a dict (CP's text kept)."""
    buf = b""
    while True:
        while b"\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                fail("the platform closed the connection")
            buf += chunk
        frame, buf = buf.split(b"\r\n", 1)
        if not frame.startswith(b"##"):
            fail("no ## in %r" % frame)
        n = int(frame[2:6])
        data, crc = frame[6 : 6 + n], frame[6 + n :]
        if len(data) != n or int(crc, 16) != hj212_crc(data):
            fail("length or CRC wrong: %r" % frame)
        head, _, cp = data.decode().partition(";CP=")
        fields = dict(kv.split("=", 1) for kv in head.split(";"))
        fields["CP"] = cp
        yield fields


def hj212_monitor(port):
    """A monitor's session (HJ 212-2017 6.6, 7): real-time data wanting an answer → 9014 with
    its QN; a time calibration request (1013) → 9011 QnRtn=1, then 9012 ExeRtn=1."""
    def frame(data):
        raw = data.encode()
        return b"##%04d%s%04X\r\n" % (len(raw), raw, hj212_crc(raw))

    head = "ST=22;CN=%d;PW=123456;MN=SSCOPE00000001;Flag=5;CP=&&%s&&"
    with connect(port) as s:
        r = hj212_reader(s)
        # An upload whose CRC is wrong (a digit of it changed) must not be acknowledged: the
        # first answer is then the good upload's.
        bad = bytearray(frame("QN=20260107115959999;" + head % (
            2011, "DataTime=20260107115959;a34004-Rtd=36.90,a34004-Flag=N")))
        bad[-3] = ord("0") if bad[-3] != ord("0") else ord("1")
        s.sendall(bytes(bad))
        s.sendall(frame("QN=20260107120000123;" + head % (
            2011, "DataTime=20260107120000;a34004-Rtd=36.91,a34004-Flag=N")))
        answer = next(r)
        print("CN=%s QN=%s ST=%s Flag=%s CP=%s" % (
            answer["CN"], answer["QN"], answer["ST"], answer["Flag"], answer["CP"]))
        if (answer["CN"], answer["QN"], answer["MN"]) != ("9014", "20260107120000123", "SSCOPE00000001"):
            fail("2011 answered by %r" % answer)
        s.sendall(frame("QN=20260107120000456;" + head % (1013, "")))
        for cn, cp in [("9011", "&&QnRtn=1&&"), ("9012", "&&ExeRtn=1&&")]:
            answer = next(r)
            print("CN=%s QN=%s CP=%s" % (answer["CN"], answer["QN"], answer["CP"]))
            if (answer["CN"], answer["QN"], answer["CP"]) != (cn, "20260107120000456", cp):
                fail("1013 answered by %r, not %s %s" % (answer, cn, cp))
    print("OK")


port = int(sys.argv[2])
if sys.argv[1] == "jt808-terminal":
    jt808_terminal(port)
    sys.exit(0)
if sys.argv[1] == "hj212-monitor":
    hj212_monitor(port)
    sys.exit(0)
frames = {"jt808": jt808, "hj212": hj212}[sys.argv[1]]()
with connect(port) as s:
    s.sendall(frames)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # until the listener closes
