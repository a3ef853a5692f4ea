/* libFuzzer target: daemon responses through the gantry CLI's HTTP parser, fed in uneven pieces. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmd/gantry/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count_body(const char *buf, size_t len, void *ud)
{
        size_t *total = ud;
        /* Every byte handed out must be readable. */
        for (size_t i = 0; i < len; i++)
                *total += (unsigned char)buf[i] != 0;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct http_parser p;
        http_parser_init(&p);
        size_t total = 0, off = 0;
        /* The first byte picks the read size, as reads split a response anywhere. */
        size_t step = size > 0 ? (size_t)data[0] % 17 + 1 : 1;
        const char *buf = (const char *)data;
        while (off < size) {
                size_t n = size - off < step ? size - off : step;
                size_t used = 0;
                int r = http_parser_feed(&p, buf + off, n, &used, count_body, &total);
                if (r < 0 || used > n)
                        return 0;
                if (used == 0 && p.state != HTTP_DONE)
                        off += n; /* cannot happen: the parser takes what it is given */
                off += used;
                if (p.state == HTTP_DONE)
                        break;
        }
        http_parser_eof(&p);
        return 0;
}
