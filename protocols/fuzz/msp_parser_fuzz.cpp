// libFuzzer target: the MSP parser must survive any bytes, and chunking must not change the result.
#include <cstddef>
#include <cstdint>

#include "protocols/msp/frame.hpp"
#include "protocols/msp/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = 1 + data[0] % 17;
    rig::ByteView all(reinterpret_cast<const std::byte*>(data + 1), size - 1);

    rig::msp::Parser whole(512), pieces(512);
    auto a = whole.feed(all);
    std::vector<rig::msp::Frame> b;
    for (std::size_t off = 0; off < all.size(); off += chunk) {
        auto f = pieces.feed(all.subspan(off, std::min(chunk, all.size() - off)));
        b.insert(b.end(), f.begin(), f.end());
    }
    if (a != b) __builtin_trap();
    for (const auto& f : a) {
        // Every typed decoder must refuse or accept, never read past the payload.
        (void)rig::msp::ApiVersion::decode(f.payload);
        (void)rig::msp::FcVersion::decode(f.payload);
        (void)rig::msp::BoardInfo::decode(f.payload);
        (void)rig::msp::Analog::decode(f.payload);
        (void)rig::msp::RawImu::decode(f.payload);
        (void)rig::msp::MotorTelemetry::decode(f.payload);
        (void)rig::msp::Uid::decode(f.payload);
        // Re-encoding a parsed frame and parsing it again gives the same frame.
        rig::msp::Parser again(512);
        auto c = again.feed(rig::msp::encode(f));
        if (c.size() != 1 || c[0] != f) __builtin_trap();
    }
    return 0;
}
