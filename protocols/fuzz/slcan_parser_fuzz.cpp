// libFuzzer target: SLCAN line parser; a parsed frame line re-encodes to the same frame.
#include <cstddef>
#include <cstdint>

#include "protocols/slcan/slcan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rig::slcan::Parser p;
    auto events = p.feed(rig::ByteView(reinterpret_cast<const std::byte*>(data), size));
    for (const auto& e : events) {
        if (const auto* fl = std::get_if<rig::slcan::FrameLine>(&e)) {
            std::string line = rig::slcan::frame(fl->frame, fl->timestamp_ms);
            line.pop_back();
            auto back = rig::slcan::parse_line(line);
            if (!back || std::get<rig::slcan::FrameLine>(*back) != *fl) __builtin_trap();
        }
    }
    return 0;
}
