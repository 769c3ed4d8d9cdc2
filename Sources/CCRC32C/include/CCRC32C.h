// CRC-32C with the processor's own instruction, for the journal's frame checksums.
//
// Swift has no portable way to reach SSE 4.2's crc32 instruction, so these two functions are C.
// The Swift side (CopyBridgeAgent's CRC32C) keeps the table-driven version for processors
// without the instruction, and as the reference the tests hold this one to.

#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this processor has a CRC-32C instruction the library uses (SSE 4.2 on x86-64), else 0.
int ccrc32c_hardware_available(void);

/// Advances the running CRC-32C state `crc` (already inverted, as the algorithm keeps it) over
/// `count` bytes at `bytes`. Call only when `ccrc32c_hardware_available()` returned 1.
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *bytes, size_t count);

#endif
