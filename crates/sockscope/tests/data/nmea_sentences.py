"""NMEA sentences made by pynmea2 (not by us), one per line: a GGA and an RMC."""
import pynmea2

gga = pynmea2.GGA("GP", "GGA", ("184353.07", "1929.045", "S", "02410.506", "E", "1", "04", "2.6", "100.00", "M", "-33.9", "M", "", "0000"))
rmc = pynmea2.RMC("GN", "RMC", ("081836", "A", "3751.65", "S", "14507.36", "E", "000.0", "360.0", "130998", "011.3", "E"))
for sentence in (gga, rmc):
    text = str(sentence)
    assert pynmea2.parse(text).render() == text  # pynmea2 reads back what it wrote
    print(text)
