#include "protocols/scpi/scpi.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace rig::scpi {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

Error bad(const char* what, std::string_view text) {
    return make_error(Errc::parse_error, fmt::format("scpi: '{}' is not {}", text, what));
}

}  // namespace

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string command(std::string_view header, const std::vector<Arg>& args) {
    std::string out(header);
    for (std::size_t i = 0; i < args.size(); ++i) {
        out += i == 0 ? " " : ",";
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string>) out += quote(v);
                else if constexpr (std::is_same_v<T, bool>) out += v ? "ON" : "OFF";
                else out += fmt::format("{}", v);
            },
            args[i]);
    }
    return out + "\n";
}

Result<double> parse_number(std::string_view text) {
    auto t = trim(text);
    if (t.empty()) return bad("a number", text);
    // Instruments report overflow as 9.9E37 (SCPI's INF) and NaN as 9.91E37; keywords too.
    if (iequals(t, "INF") || iequals(t, "+INF")) return INFINITY;
    if (iequals(t, "-INF") || iequals(t, "NINF")) return -INFINITY;
    if (iequals(t, "NAN")) return std::nan("");
    std::string_view digits = t.front() == '+' ? t.substr(1) : t;
    double v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc{} || p != digits.data() + digits.size()) return bad("a number", text);
    if (v == 9.91e37) return std::nan("");
    return v;
}

Result<long long> parse_integer(std::string_view text) {
    auto t = trim(text);
    std::string_view digits = !t.empty() && t.front() == '+' ? t.substr(1) : t;
    long long v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size()) return bad("an integer", text);
    return v;
}

Result<bool> parse_bool(std::string_view text) {
    auto t = trim(text);
    if (t == "1" || iequals(t, "ON")) return true;
    if (t == "0" || iequals(t, "OFF")) return false;
    return bad("a boolean (0/1/ON/OFF)", text);
}

Result<std::string> parse_string(std::string_view text) {
    auto t = trim(text);
    if (t.empty() || (t.front() != '"' && t.front() != '\'')) return std::string(t);
    const char q = t.front();
    std::string out;
    std::size_t i = 1;
    for (; i < t.size(); ++i) {
        if (t[i] == q) {
            if (i + 1 < t.size() && t[i + 1] == q) {
                out += q;
                ++i;
                continue;
            }
            break;
        }
        out += t[i];
    }
    if (i != t.size() - 1) return bad("a quoted string", text);
    return out;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    char quote_char = 0;
    for (char c : text) {
        if (quote_char) {
            cur += c;
            if (c == quote_char) quote_char = 0;  // a doubled quote reopens on the next char
            continue;
        }
        if (c == '"' || c == '\'') {
            quote_char = c;
            cur += c;
        } else if (c == ',') {
            out.emplace_back(trim(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.emplace_back(trim(cur));
    return out;
}

Result<std::vector<double>> parse_number_list(std::string_view text) {
    std::vector<double> out;
    for (const auto& item : split_list(text)) {
        auto v = parse_number(item);
        if (!v) return v.error();
        out.push_back(*v);
    }
    return out;
}

Result<ErrorEntry> parse_error(std::string_view text) {
    auto t = trim(text);
    const auto comma = t.find(',');
    if (comma == std::string_view::npos) return bad("an error queue entry (code,\"message\")", text);
    auto code = parse_integer(t.substr(0, comma));
    if (!code) return bad("an error queue entry (code,\"message\")", text);
    auto msg = parse_string(t.substr(comma + 1));
    if (!msg) return msg.error();
    return ErrorEntry{static_cast<int>(*code), *msg};
}

Result<Identity> parse_idn(std::string_view text) {
    Identity id;
    id.raw = std::string(trim(text));
    std::string_view t = id.raw;
    if (t.size() >= 5 && iequals(t.substr(0, 4), "*IDN") && (t[4] == ' ' || t[4] == ',')) t = trim(t.substr(5));
    auto f = split_list(t);
    if (f.size() < 2 || f[0].empty()) return bad("an *IDN? reply (vendor,model,serial,firmware)", text);
    id.vendor = f[0];
    id.model = f[1];
    if (f.size() == 3) id.firmware = f[2];  // vendor,model,firmware: no serial
    if (f.size() >= 4) {
        id.serial = f[2];
        id.firmware = f[3];
        for (std::size_t i = 4; i < f.size(); ++i) id.firmware += "," + f[i];
    }
    return id;
}

Result<std::optional<Block>> parse_block(ByteView b, bool end_of_message) {
    if (b.empty()) return std::optional<Block>{};
    if (b[0] != std::byte{'#'}) return make_error(Errc::parse_error, "scpi: block does not start with '#'");
    if (b.size() < 2) return std::optional<Block>{};
    const char n = static_cast<char>(b[1]);
    if (n < '0' || n > '9') return make_error(Errc::parse_error, fmt::format("scpi: block length digit '{}' is not 0-9", n));
    if (n == '0') {
        // Indefinite: up to the final LF (with EOI on GPIB; here the caller says the message ended).
        if (!end_of_message) return std::optional<Block>{};
        std::size_t end = b.size();
        if (end > 2 && b[end - 1] == std::byte{'\n'}) --end;
        return std::optional<Block>{Block{Bytes(b.begin() + 2, b.begin() + static_cast<std::ptrdiff_t>(end)), b.size()}};
    }
    const std::size_t digits = static_cast<std::size_t>(n - '0');
    if (b.size() < 2 + digits) return std::optional<Block>{};
    std::size_t len = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const char d = static_cast<char>(b[2 + i]);
        if (d < '0' || d > '9') return make_error(Errc::parse_error, "scpi: block length is not decimal");
        len = len * 10 + static_cast<std::size_t>(d - '0');
    }
    const std::size_t start = 2 + digits;
    if (b.size() < start + len) return std::optional<Block>{};
    return std::optional<Block>{Block{Bytes(b.begin() + static_cast<std::ptrdiff_t>(start), b.begin() + static_cast<std::ptrdiff_t>(start + len)), start + len}};
}

Bytes make_block(ByteView data) {
    const std::string len = std::to_string(data.size());
    ByteWriter w;
    w.u8('#').u8(static_cast<std::uint8_t>('0' + len.size())).chars(len).bytes(data);
    return w.take();
}

std::vector<std::string> ResponseReader::feed(ByteView bytes) {
    std::vector<std::string> out;
    buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    while (scanned_ < buf_.size()) {
        const char c = buf_[scanned_];
        if (c == '#' && scanned_ + 1 == buf_.size()) break;  // a block header may follow: wait
        if (c == '#' && scanned_ + 1 < buf_.size() && buf_[scanned_ + 1] >= '1' && buf_[scanned_ + 1] <= '9') {
            auto blk = parse_block(ByteView(reinterpret_cast<const std::byte*>(buf_.data() + scanned_), buf_.size() - scanned_));
            if (!blk) {
                ++scanned_;  // not a block header after all: treat as text
                continue;
            }
            if (!*blk) break;  // wait for the rest of the block
            scanned_ += (*blk)->consumed;
            continue;
        }
        if (c == '\n') {
            std::string msg = buf_.substr(0, scanned_);
            if (!msg.empty() && msg.back() == '\r') msg.pop_back();
            out.push_back(std::move(msg));
            buf_.erase(0, scanned_ + 1);
            scanned_ = 0;
            continue;
        }
        ++scanned_;
    }
    if (buf_.size() > kMaxMessage) {
        ++overlong_;
        buf_.clear();
        scanned_ = 0;
    }
    return out;
}

}  // namespace rig::scpi
