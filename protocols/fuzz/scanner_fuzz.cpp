// libFuzzer target: the barcode scanner decoders. The input is a serial scanner's byte stream
// and, read as 4-byte records (code, code, value), an evdev key stream. A good read is never
// empty, never longer than kMaxBarcode, and printable ASCII only; a bad read carries no text.
#include <cstddef>
#include <cstdint>

#include "protocols/scanner/scanner.hpp"

namespace {
void check(const rig::scanner::Scan& s) {
    if (s.ok() == !s.text.empty()) {
        if (s.text.size() > rig::scanner::kMaxBarcode) __builtin_trap();
        for (char c : s.text)
            if (c < 0x20 || c > 0x7E) __builtin_trap();
        return;
    }
    __builtin_trap();  // a good read with no text, or a bad read with text
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rig::scanner::LineFramer framer;
    // Split where the input says, so chunking is exercised as a real port's reads would.
    const std::size_t cut = size ? data[0] % (size + 1) : 0;
    for (const auto& s : framer.feed(rig::ByteView(reinterpret_cast<const std::byte*>(data), cut))) check(s);
    for (const auto& s : framer.feed(rig::ByteView(reinterpret_cast<const std::byte*>(data + cut), size - cut))) check(s);
    if (auto s = framer.idle()) check(*s);
    if (framer.pending()) __builtin_trap();

    rig::scanner::KeyDecoder keys;
    for (std::size_t i = 0; i + 4 <= size; i += 4) {
        const std::uint16_t type = data[i] % 4 == 3 ? 0 : rig::scanner::ev::key;  // mostly keys
        const std::uint16_t code = static_cast<std::uint16_t>(data[i + 1] | ((data[i + 2] & 0x01) << 8));
        const std::int32_t value = static_cast<std::int32_t>(data[i + 3] % 3);
        if (data[i] == 0xFF) keys.dropped();
        else if (auto s = keys.feed(type, code, value)) check(*s);
    }
    if (auto s = keys.idle()) check(*s);
    if (keys.pending()) __builtin_trap();
    return 0;
}
