"""A DL/T 645-2007 master station that is not ours: PyPI dlt645's client. Usage:
dlt645_master.py PORT. Reads the meter's address (broadcast 0x13), then energy, phase A
voltage and current and the frequency (0x11) from 127.0.0.1:PORT, printing each value as
dlt645 reads it, and OK; an unknown data identifier must be refused. Exit 1 otherwise."""
import sys

from dlt645 import MeterClientService

client = MeterClientService.new_tcp_client("127.0.0.1", int(sys.argv[1]), 3.0)
address = client.read_address()
if address is None:
    print("FAIL: no answer to read address")
    sys.exit(1)
print("address", address.value)
# dlt645 takes the address in the order the wire has it (low byte first).
client.set_address(address.value)
for di in [0x00000000, 0x00010000, 0x02010100, 0x02020100, 0x02800002]:
    item = client.read_00(di)
    if item is None:
        print("FAIL: no value for %08X" % di)
        sys.exit(1)
    print("%08X %s" % (di, item.value))
if client.read_00(0x00030000) is not None:
    print("FAIL: an unknown data identifier was answered")
    sys.exit(1)
print("OK")
