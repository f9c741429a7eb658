/* CRC-32, table driven; the table is built once before main(). */
#include "lib/crc32.h"

#define CRC32_POLY 0xEDB88320u

static uint32_t table[256];

/* Built from a constructor so that later use, even from several threads,
 * only reads the table. */
__attribute__((constructor)) static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = (c & 1) ? CRC32_POLY ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    crc = ~crc;
    while (len-- > 0)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
