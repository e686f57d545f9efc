"""Writes a pcap (Ethernet, IPv4, TCP) the way tcpdump does, from the file format's text:
two JT/T 808 frames from 127.0.0.1:40000 to 127.0.0.1:7000, the second cut across two
segments. Usage: write_pcap.py FILE HEX1 HEX2 [MODE]. MODE (as captures show TCP on a bad
link): retrans (the first segment sent again), halfretrans (the first half of the second frame
sent again), ooo (the second frame's halves captured out of order), gap (bytes 5 to 9 of the
first frame never captured)."""
import struct
import sys

path, one, two = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else ""
n1 = len(one)
# (offset in the stream, bytes): the sequence number is 1000 + offset.
segments = {
    "": [(0, one + two[:7]), (n1 + 7, two[7:])],
    "retrans": [(0, one), (0, one), (n1, two)],
    "halfretrans": [(0, one), (n1, two[:7]), (n1, two[:7]), (n1 + 7, two[7:])],
    "ooo": [(0, one), (n1 + 7, two[7:]), (n1, two[:7])],
    "gap": [(0, one[:5]), (10, one[10:]), (n1, two)],
}[mode]


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
    for n, (offset, payload) in enumerate(segments):
        seq = 1000 + offset
        tcp = struct.pack("!HHIIBBHHH", 40000, 7000, seq, 1, 5 << 4, 0x18, 65535, 0, 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), n, 0, 64, 6, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = b"\0" * 6 + b"\0" * 6 + b"\x08\x00" + ip + tcp
        f.write(struct.pack("<IIII", 1767225600 + n, 0, len(frame), len(frame)))
        f.write(frame)
