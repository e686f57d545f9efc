"""A Modbus server that is not ours: pymodbus serving holding registers 0.. = 17, 42, 4660,
with its TCP (MBAP) framer or its RTU framer over TCP. Usage: pymodbus_server.py tcp|rtu.
Prints its port once it listens."""
import asyncio
import inspect
import socket
import sys

from pymodbus import FramerType
from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusTcpServer

try:
    from pymodbus.datastore import ModbusDeviceContext as Device
except ImportError:  # before 3.10 the device was a "slave"
    from pymodbus.datastore import ModbusSlaveContext as Device

framer = FramerType.RTU if sys.argv[1] == "rtu" else FramerType.SOCKET
# pymodbus counts data block addresses from 1: request address 0 is the first value.
block = ModbusSequentialDataBlock(1, [17, 42, 4660] + [0] * 20)
device = Device(hr=block)
single = "devices" if "devices" in inspect.signature(ModbusServerContext).parameters else "slaves"
context = ModbusServerContext(**{single: device, "single": True})

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()


async def main():
    server = ModbusTcpServer(context, framer=framer, address=("127.0.0.1", port))
    asyncio.get_running_loop().call_later(0.3, lambda: print(port, flush=True))
    await server.serve_forever()


asyncio.run(main())
