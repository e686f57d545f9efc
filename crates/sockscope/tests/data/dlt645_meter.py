"""A DL/T 645-2007 meter that is not ours: PyPI dlt645's server, meter address 000000000001,
phase A voltage 220.5 V. Prints its port once it listens.

dlt645 writes the address bytes in the order its text gives them, while DL/T 645 sends the
low byte first: "010000000000" puts 01 00 00 00 00 00 on the wire, which is meter
000000000001 as the standard (and its example frames) read it."""
import socket
import time

from dlt645 import MeterServerService

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()

meter = MeterServerService.new_tcp_server("127.0.0.1", port, 5.0)
meter.set_address("010000000000")
meter.set_02(0x02010100, 220.5)
assert meter.start()
print(port, flush=True)
time.sleep(30)
