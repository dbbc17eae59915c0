// libFuzzer target: SCPI response reader and value parsers.
#include <cstddef>
#include <cstdint>

#include "protocols/scpi/scpi.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rig::ByteView all(reinterpret_cast<const std::byte*>(data), size);
    rig::scpi::ResponseReader rr;
    for (const auto& m : rr.feed(all)) {
        (void)rig::scpi::parse_number(m);
        (void)rig::scpi::parse_bool(m);
        (void)rig::scpi::parse_string(m);
        (void)rig::scpi::parse_error(m);
        (void)rig::scpi::parse_idn(m);
        (void)rig::scpi::parse_number_list(m);
    }
    (void)rig::scpi::parse_block(all, true);
    return 0;
}
