#include "reports/text.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fmt/format.h>

namespace rig::reports {

namespace {
bool id_char(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '_' || c == '-'; }
bool alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
}  // namespace

std::optional<std::string> time_prefix_problem(std::string_view t) {
    static constexpr std::string_view kTemplate = "dddd-dd-ddTdd:dd:dd.dddZ";
    static constexpr std::size_t kCuts[] = {4, 7, 10, 13, 16, 19, 23, 24};
    const auto why = [&] { return fmt::format("'{}' is not an ISO 8601 UTC time or a prefix of one (2026, 2026-11, 2026-11-24, 2026-11-24T14:30, ...)", printable(t)); };
    if (std::find(std::begin(kCuts), std::end(kCuts), t.size()) == std::end(kCuts)) return why();
    for (std::size_t i = 0; i < t.size(); ++i)
        if (kTemplate[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != kTemplate[i]) return why();
    const auto field = [&](std::size_t at) { return (t[at] - '0') * 10 + (t[at + 1] - '0'); };
    if (t.size() >= 7 && (field(5) < 1 || field(5) > 12)) return why();
    if (t.size() >= 10 && (field(8) < 1 || field(8) > 31)) return why();
    if (t.size() >= 13 && field(11) > 23) return why();
    if (t.size() >= 16 && field(14) > 59) return why();
    if (t.size() >= 19 && field(17) > 59) return why();
    return std::nullopt;
}

std::optional<std::string> id_problem(std::string_view id) {
    if (id.empty()) return "is empty";
    if (id.size() > kMaxIdLength) return fmt::format("is {} characters long, more than {}", id.size(), kMaxIdLength);
    if (!alnum(static_cast<unsigned char>(id[0]))) return fmt::format("'{}' does not start with a letter or digit", printable(id));
    for (unsigned char c : id)
        if (!id_char(c)) return fmt::format("'{}' has a character outside [A-Za-z0-9._-]", printable(id));
    return std::nullopt;
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c < 0x20 || c >= 0x7F) out += fmt::format("\\x{:02X}", c);
        else out += static_cast<char>(c);
    }
    return out;
}

std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const auto t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    // Every step is stamped: the date and time are formatted once a second, per thread.
    thread_local std::time_t cached_second = -1;
    thread_local char prefix[32];
    if (t != cached_second) {
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_second = t;
    }
    std::string out(prefix);
    out += '.';
    out += static_cast<char>('0' + ms / 100);
    out += static_cast<char>('0' + ms / 10 % 10);
    out += static_cast<char>('0' + ms % 10);
    out += 'Z';
    return out;
}

bool is_timestamp(std::string_view t) {
    // YYYY-MM-DDTHH:MM:SS.mmmZ with plausible field ranges.
    static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (t.size() != shape.size()) return false;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const bool digit = t[i] >= '0' && t[i] <= '9';
        if (shape[i] == 'd' ? !digit : t[i] != shape[i]) return false;
    }
    auto num = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) v = v * 10 + (t[at + i] - '0');
        return v;
    };
    const int month = num(5, 2), day = num(8, 2), hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

double epoch_seconds(std::string_view t) {
    if (!is_timestamp(t)) return 0;
    const std::string s(t);
    std::tm tm{};
    strptime(s.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    return static_cast<double>(timegm(&tm)) + std::atof(("0" + s.substr(19, 4)).c_str());
}

}  // namespace rig::reports
