// libFuzzer target: USBTMC Bulk-IN header parsing and response assembly, Bulk-OUT parsing (the
// device side), class request replies and USB488 status notifications.
#include <cstddef>
#include <cstdint>

#include "protocols/usbtmc/usbtmc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    rig::usbtmc::ResponseAssembler a(data[0]);
    rig::ByteView rest(reinterpret_cast<const std::byte*>(data + 2), size - 2);
    const std::size_t cut = data[1] % 64 + 12;
    for (std::size_t off = 0; off < rest.size(); off += cut) {
        auto r = a.feed_transfer(rest.subspan(off, std::min(cut, rest.size() - off)));
        if (!r || *r) break;
    }
    (void)rig::usbtmc::parse_capabilities(rest);
    (void)rig::usbtmc::parse_bulk_out(rest);
    (void)rig::usbtmc::parse_control_reply(rest, data[1] % 9, "fuzz");
    (void)rig::usbtmc::parse_status_notification(rest, data[0]);
    return 0;
}
