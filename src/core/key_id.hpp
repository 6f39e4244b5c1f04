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
inline uint64_t
fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

inline int64_t
key_id(const char *bytes, size_t length)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < length; ++i)
    {
        h ^= uint64_t(static_cast<unsigned char>(bytes[i]));
        h *= 0x100000001b3ULL;
    }
    return static_cast<int64_t>(fmix64(h));
}

// Where a user falls in [0, 1) when a model's traffic is split (an A/B test): a function of the
// user's 64-bit id (an integer id itself, a text or uuid id's key_id) and the model name's key_id
// alone, so every session, server, standby and restart agrees, and one user falls at unrelated places
// for two models. A test with traffic t serves its challenger to the users below t.
inline double
traffic_position(int64_t user_id, uint64_t name_hash)
{
    const uint64_t h = fmix64(name_hash ^ fmix64(static_cast<uint64_t>(user_id) + 0x9e3779b97f4a7c15ULL));
    return double(h >> 11) * (1.0 / 9007199254740992.0);  // the top 53 bits, / 2^53
}

}  // namespace rec::core
