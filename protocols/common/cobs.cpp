#include "protocols/common/cobs.hpp"

namespace rig::cobs {

Bytes encode(ByteView data) {
    Bytes out;
    out.reserve(data.size() + data.size() / 254 + 2);
    std::size_t code_pos = 0;
    std::uint8_t code = 1;
    bool open = false;  // a block is opened lazily, so data ending on a 254-byte run gets no empty block
    auto open_block = [&] {
        code_pos = out.size();
        out.push_back(std::byte{0});
        code = 1;
        open = true;
    };
    auto close_block = [&] {
        out[code_pos] = static_cast<std::byte>(code);
        open = false;
    };
    open_block();
    for (auto b : data) {
        if (!open) open_block();
        if (b == std::byte{0}) {
            close_block();
            open_block();
            continue;
        }
        out.push_back(b);
        if (++code == 0xFF) close_block();
    }
    if (open) close_block();
    return out;
}

std::optional<Bytes> decode(ByteView data) {
    Bytes out;
    out.reserve(data.size());
    std::size_t i = 0;
    while (i < data.size()) {
        auto code = std::to_integer<std::uint8_t>(data[i++]);
        if (code == 0) return std::nullopt;
        for (std::uint8_t k = 1; k < code; ++k) {
            if (i >= data.size() || data[i] == std::byte{0}) return std::nullopt;
            out.push_back(data[i++]);
        }
        if (code != 0xFF && i < data.size()) out.push_back(std::byte{0});
    }
    return out;
}

}  // namespace rig::cobs
