#include "protocols/slcan/slcan.hpp"

#include <fmt/format.h>

namespace rig::slcan {
namespace {

std::optional<std::uint32_t> parse_hex(std::string_view s) {
    if (s.empty() || s.size() > 8) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : s) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return std::nullopt;
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
}

Error bad(std::string_view line, const std::string& why) {
    return make_error(Errc::parse_error, fmt::format("slcan: line '{}': {}", line, why));
}

}  // namespace

std::string open() { return "O\r"; }
std::string listen_only() { return "L\r"; }
std::string close() { return "C\r"; }
std::string timestamps(bool on) { return on ? "Z1\r" : "Z0\r"; }
std::string version() { return "V\r"; }
std::string serial_number() { return "N\r"; }
std::string status_flags() { return "F\r"; }

std::optional<std::string> bitrate(unsigned bps) {
    // S7 is 800 kbit/s on Lawicel/USBtin and 750 kbit/s on CANable: both map to it.
    static constexpr unsigned kRates[] = {10000, 20000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000};
    for (unsigned i = 0; i < std::size(kRates); ++i)
        if (kRates[i] == bps || (i == 7 && bps == 750000)) return fmt::format("S{}\r", i);
    return std::nullopt;
}

std::string frame(const CanFrame& f, std::optional<std::uint16_t> ts) {
    std::string s;
    const char letter = f.rtr ? (f.extended ? 'R' : 'r') : (f.extended ? 'T' : 't');
    s += letter;
    s += f.extended ? fmt::format("{:08X}", f.id & kCanExtMask) : fmt::format("{:03X}", f.id & kCanStdMask);
    const std::size_t dlc = f.rtr ? f.rtr_dlc : std::min<std::size_t>(f.data.size(), 8);
    s += static_cast<char>('0' + dlc);
    if (!f.rtr)
        for (std::size_t i = 0; i < dlc; ++i) s += fmt::format("{:02X}", std::to_integer<unsigned>(f.data[i]));
    if (ts) s += fmt::format("{:04X}", *ts % 60000);
    s += kCr;
    return s;
}

Result<Event> parse_line(std::string_view line) {
    if (line.empty()) return Event{Ok{}};
    const char c = line[0];
    if ((c == 'z' || c == 'Z') && line.size() == 1) return Event{TxOk{c == 'Z'}};
    if (c == 't' || c == 'T' || c == 'r' || c == 'R') {
        const bool ext = c == 'T' || c == 'R';
        const bool rtr = c == 'r' || c == 'R';
        const std::size_t id_len = ext ? 8 : 3;
        if (line.size() < 1 + id_len + 1) return bad(line, "too short for a frame");
        auto id = parse_hex(line.substr(1, id_len));
        if (!id) return bad(line, "bad identifier");
        if (*id > (ext ? kCanExtMask : kCanStdMask)) return bad(line, "identifier out of range");
        const char d = line[1 + id_len];
        if (d < '0' || d > '8') return bad(line, "DLC must be 0..8");
        const std::size_t dlc = static_cast<std::size_t>(d - '0');
        const std::size_t data_len = rtr ? 0 : 2 * dlc;
        const std::size_t base = 2 + id_len + data_len;
        if (line.size() != base && line.size() != base + 4) return bad(line, "length does not match the DLC");
        FrameLine fl;
        fl.frame.id = *id;
        fl.frame.extended = ext;
        fl.frame.rtr = rtr;
        fl.frame.rtr_dlc = rtr ? static_cast<std::uint8_t>(dlc) : 0;
        for (std::size_t i = 0; i < data_len / 2; ++i) {
            auto b = parse_hex(line.substr(2 + id_len + 2 * i, 2));
            if (!b) return bad(line, "bad data byte");
            fl.frame.data.push_back(static_cast<std::byte>(*b));
        }
        if (line.size() == base + 4) {
            auto ts = parse_hex(line.substr(base, 4));
            if (!ts || *ts >= 60000) return bad(line, "bad timestamp (0000..EA5F)");
            fl.timestamp_ms = static_cast<std::uint16_t>(*ts);
        }
        return Event{std::move(fl)};
    }
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return Event{Command{c, std::string(line.substr(1))}};
    return bad(line, "unknown command");
}

std::vector<Event> Parser::feed(ByteView bytes) {
    std::vector<Event> out;
    for (auto b : bytes) {
        const char c = static_cast<char>(b);
        if (c == kBell) {
            line_.clear();
            overflow_ = false;
            out.emplace_back(Bell{});
            continue;
        }
        if (c == kCr || c == '\n') {
            if (c == '\n' && line_.empty()) continue;  // tolerate CR LF
            if (overflow_) {
                ++dropped_.overlong;
                overflow_ = false;
            } else if (auto e = parse_line(line_)) {
                out.push_back(std::move(*e));
            } else {
                ++dropped_.malformed;
                last_error_ = e.error().message;
            }
            line_.clear();
            continue;
        }
        if (line_.size() >= kMaxLine) overflow_ = true;
        else line_ += c;
    }
    return out;
}

}  // namespace rig::slcan
