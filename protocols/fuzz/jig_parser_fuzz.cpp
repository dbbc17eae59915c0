// libFuzzer target: the jig-protocol parser (COBS + CRC-16) on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "protocols/jig/jig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rig::ByteView all(reinterpret_cast<const std::byte*>(data), size);
    rig::jig::Parser whole, bytewise;
    auto a = whole.feed(all);
    std::vector<rig::jig::Frame> b;
    for (std::size_t i = 0; i < all.size(); ++i) {
        auto f = bytewise.feed(all.subspan(i, 1));
        b.insert(b.end(), f.begin(), f.end());
    }
    if (a != b) __builtin_trap();
    for (const auto& f : a) {
        (void)rig::jig::decode_supply(f.payload);
        (void)rig::jig::decode_identity(f.payload);
        (void)rig::jig::decode_error(f.payload);
        rig::jig::Parser again;
        auto c = again.feed(rig::jig::encode(f));
        if (c.size() != 1 || c[0] != f) __builtin_trap();
    }
    return 0;
}
