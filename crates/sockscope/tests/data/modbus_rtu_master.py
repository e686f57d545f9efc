"""A Modbus master that is not ours: pymodbus's client with its RTU framer over TCP (RTU frames
and their CRC on a TCP stream). Usage: modbus_rtu_master.py PORT. Reads, writes one and
several holding registers of slave 1 at 127.0.0.1:PORT, reads them back, asks past the end
and for functions the slave does not serve; prints each answer and OK, or FAIL and exits 1."""
import inspect
import sys

from pymodbus import FramerType
from pymodbus.client import ModbusTcpClient

client = ModbusTcpClient("127.0.0.1", port=int(sys.argv[1]), framer=FramerType.RTU, timeout=3)
if not client.connect():
    print("FAIL: cannot connect")
    sys.exit(1)
# The slave's keyword was renamed in pymodbus 3.10.
unit = "device_id" if "device_id" in inspect.signature(client.read_holding_registers).parameters else "slave"
one = {unit: 1}


def registers(address, count):
    r = client.read_holding_registers(address, count=count, **one)
    if r.isError():
        print("FAIL: read %d×%d: %s" % (address, count, r))
        sys.exit(1)
    print("read %d×%d %s" % (address, count, r.registers))


registers(0, 3)
r = client.write_register(5, 0x1234, **one)
print("write 5 =", r.registers, "error" if r.isError() else "")
r = client.write_registers(7, [1, 2, 3], **one)
print("write 7×%d" % r.count, "error" if r.isError() else "")
registers(4, 6)
r = client.read_holding_registers(9, count=5, **one)
print("read 9×5 exception", getattr(r, "exception_code", None))
# Functions the slave does not serve, asked in frames of other lengths (4 and 7 bytes): each
# answered with exception 01, not held back until the next request came.
r = client.report_device_id(**one)
print("report id exception", getattr(r, "exception_code", None))
r = client.read_device_information(**one)
print("device info exception", getattr(r, "exception_code", None))
client.close()
print("OK")
