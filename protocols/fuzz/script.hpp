// The fuzz input read as a script of operations (session fuzz targets): one byte at a time,
// zeros once it runs out.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rig::fuzz {

struct Script {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t next() {
        if (!n) return 0;
        --n;
        return *p++;
    }
};

}  // namespace rig::fuzz
