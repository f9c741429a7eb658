/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as used by zlib. */
#ifndef C8S_LIB_CRC32_H
#define C8S_LIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC over @len bytes at @data. Start with crc = 0; the result of
 * one call can be passed to the next to checksum data in pieces. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif /* C8S_LIB_CRC32_H */
