# braid: entry=crc16
# braid: preset tiny N=37
# braid: preset default N=60000
# braid: targets cpu opencl hls
"""CRC-16/X-25 (reflected polynomial 0x8408, initial value and final XOR 0xFFFF), plain NumPy.

Checksums the first nbytes bytes of a buffer bit by bit; "123456789" gives 0x906E.
"""

import numpy as np


#pythran export crc16(uint8[:], int)
def crc16(data, nbytes):
    crc = 0xFFFF
    i = 0
    while i < nbytes:
        byte = data[i]
        bit = 0
        while bit < 8:
            if (crc & 1) != (byte & 1):
                crc = (crc >> 1) ^ 0x8408
            else:
                crc = crc >> 1
            byte = byte >> 1
            bit += 1
        i += 1
    return crc ^ 0xFFFF


def initialize(N):
    """A frame of N random bytes whose last 3 bytes are padding outside the checksum."""
    rng = np.random.default_rng(42)
    return {"data": rng.integers(0, 256, N, dtype=np.uint8), "nbytes": N - 3}
