#include "CCRC32C.h"

#include <string.h>

#if defined(__x86_64__)

int ccrc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

// Compiled for SSE 4.2 only here, so the rest of the program runs on any x86-64; callers check
// ccrc32c_hardware_available() first.
__attribute__((target("sse4.2")))
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *bytes, size_t count) {
    const unsigned char *p = (const unsigned char *)bytes;
    uint64_t state = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);  // unaligned, and the same bytes in the same order on little-endian x86
        state = __builtin_ia32_crc32di(state, word);
        p += 8;
        count -= 8;
    }
    uint32_t state32 = (uint32_t)state;
    while (count > 0) {
        state32 = __builtin_ia32_crc32qi(state32, *p);
        p += 1;
        count -= 1;
    }
    return state32;
}

#else

int ccrc32c_hardware_available(void) { return 0; }

uint32_t ccrc32c_hardware_update(uint32_t crc, const void *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return crc;
}

#endif
