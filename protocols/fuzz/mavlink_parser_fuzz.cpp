// libFuzzer target: MAVLink parser; chunking must not change the result; every parsed frame
// re-encodes to a frame that parses to the same message.
#include <cstddef>
#include <cstdint>

#include "protocols/mavlink/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = 1 + data[0] % 13;
    rig::ByteView all(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    rig::mavlink::Parser whole, pieces;
    auto a = whole.feed(all);
    std::vector<rig::mavlink::Frame> b;
    for (std::size_t off = 0; off < all.size(); off += chunk) {
        auto f = pieces.feed(all.subspan(off, std::min(chunk, all.size() - off)));
        b.insert(b.end(), f.begin(), f.end());
    }
    if (a != b || whole.dropped() != pieces.dropped()) __builtin_trap();
    for (const auto& f : a) {
        std::array<std::uint8_t, 32> key{};
        (void)rig::mavlink::verify_signature(f, key);
        (void)rig::mavlink::decode<rig::mavlink::CommandAck>(f);
        (void)rig::mavlink::decode<rig::mavlink::BatteryStatus>(f);
        if (f.v2) {
            auto again = rig::mavlink::encode_v2({f.seq, f.sysid, f.compid}, f.msgid, f.payload);
            rig::mavlink::Parser p;
            auto c = p.feed(again);
            if (c.size() != 1 || c[0].payload != f.payload) __builtin_trap();
        }
    }
    return 0;
}
