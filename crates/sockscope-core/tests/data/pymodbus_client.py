"""A Modbus TCP master that is not ours: pymodbus reads, writes and reads back the shipped
slave simulator's holding registers, and expects exception 02 past the end.
Usage: pymodbus_client.py PORT. Exit 0 when every answer is what the spec says."""
import inspect
import sys

from pymodbus.client import ModbusTcpClient

port = int(sys.argv[1])
client = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
assert client.connect(), "connects"

# The unit argument was renamed (slave -> device_id) across pymodbus versions.
unit = "device_id" if "device_id" in inspect.signature(client.read_holding_registers).parameters else "slave"


def read(address, count):
    return client.read_holding_registers(address, count=count, **{unit: 1})


rr = read(0, 10)
assert not rr.isError(), rr
assert rr.registers == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], rr.registers

wr = client.write_register(3, 4321, **{unit: 1})
assert not wr.isError(), wr
rr = read(2, 3)
assert rr.registers == [30, 4321, 50], rr.registers

bad = read(8, 5)
assert bad.isError(), bad
assert bad.exception_code == 2, bad

client.close()
print("pymodbus: read, write, read back and exception 02 as the spec says")
