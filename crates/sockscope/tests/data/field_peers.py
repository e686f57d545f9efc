"""Devices that are not ours, written from the standards' text (not from SockScope's specs):
a JT/T 808-2013 terminal and an HJ 212-2017 monitor. Usage: field_peers.py jt808|hj212 PORT.
Each connects to 127.0.0.1:PORT, sends its frames in one write, and closes."""
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


frames = {"jt808": jt808, "hj212": hj212}[sys.argv[1]]()
deadline = time.monotonic() + 5
while True:  # the listener may still be starting
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5)
        break
    except ConnectionRefusedError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.02)
with s:
    s.sendall(frames)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # until the listener closes
