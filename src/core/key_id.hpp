// Text and uuid ids (a user's email, an item's SKU, a uuid) are trained and served as 64-bit
// integers: each id's text form hashed with a fixed, portable function. The hash needs no dictionary
// to be consulted when reading a source, so training, refreshes and evaluation agree on every id
// without sharing state, and it gives the same value on every platform, so a model dumped on one
// machine serves correctly when restored on another. The model stores each id's text form too: serving
// returns ids as they were, and a collision (two ids with one hash) is detected and refused instead
// of merging two users.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rec::core {

// FNV-1a over the bytes, then a 64-bit finalizer (MurmurHash3's fmix64) that spreads FNV's weak low
// bits. Byte at a time, so independent of endianness and alignment.
inline int64_t
key_id(const char *bytes, size_t length)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < length; ++i)
    {
        h ^= uint64_t(static_cast<unsigned char>(bytes[i]));
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return static_cast<int64_t>(h);
}

}  // namespace rec::core
