// libFuzzer target: CRSF parser and payload decoders.
#include <cstddef>
#include <cstdint>

#include "protocols/crsf/crsf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rig::ByteView all(reinterpret_cast<const std::byte*>(data), size);
    rig::crsf::Parser whole, bytewise;
    auto a = whole.feed(all);
    std::vector<rig::crsf::Frame> b;
    for (std::size_t i = 0; i < all.size(); ++i) {
        auto f = bytewise.feed(all.subspan(i, 1));
        b.insert(b.end(), f.begin(), f.end());
    }
    if (a != b) __builtin_trap();
    for (const auto& f : a) {
        (void)rig::crsf::RcChannels::decode(f.payload);
        (void)rig::crsf::LinkStatistics::decode(f.payload);
        (void)rig::crsf::BatterySensor::decode(f.payload);
        (void)rig::crsf::DeviceInfo::decode(f.payload);
        (void)rig::crsf::ParameterEntry::decode(f.payload);
        rig::crsf::Parser again;
        auto c = again.feed(rig::crsf::encode(f));
        if (c.size() != 1 || c[0] != f) __builtin_trap();
    }
    return 0;
}
