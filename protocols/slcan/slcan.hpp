// SLCAN (Lawicel ASCII) line codec, both directions (reference/protocols.md §6), sans-IO.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocols/common/can_frame.hpp"
#include "protocols/common/result.hpp"

namespace rig::slcan {

inline constexpr char kCr = '\r';
inline constexpr char kBell = '\a';
inline constexpr std::size_t kMaxLine = 64;

// --- host -> adapter ---
std::string open();
std::string listen_only();
std::string close();
// S0..S8; nullopt for a rate with no standard code.
std::optional<std::string> bitrate(unsigned bits_per_s);
std::string timestamps(bool on);
std::string version();
std::string serial_number();
std::string status_flags();
// A frame line: t/T for data, r/R for remote; upper-case hex; timestamp appended when given
// (adapter -> host lines carry one when Z1 is on).
std::string frame(const CanFrame& f, std::optional<std::uint16_t> timestamp_ms = std::nullopt);

// --- parsing either direction ---
struct FrameLine {
    CanFrame frame;
    std::optional<std::uint16_t> timestamp_ms;  // 0..59999
    bool operator==(const FrameLine&) const = default;
};
struct Ok {  // a bare CR: the adapter accepted a command
    bool operator==(const Ok&) const = default;
};
struct TxOk {  // 'z' or 'Z': the adapter queued a transmitted frame
    bool extended = false;
    bool operator==(const TxOk&) const = default;
};
struct Bell {  // the adapter refused a command
    bool operator==(const Bell&) const = default;
};
struct Command {  // any other line: the command letter and its argument text (S8, O, V, F12, N1234...)
    char letter = 0;
    std::string argument;
    bool operator==(const Command&) const = default;
};
using Event = std::variant<FrameLine, Ok, TxOk, Bell, Command>;

// Parses one line without its CR. Hex digits in either case.
Result<Event> parse_line(std::string_view line);

struct DropCounters {
    std::uint64_t malformed = 0;  // a line that is not valid SLCAN (bad hex, DLC > 8, wrong length...)
    std::uint64_t overlong = 0;   // no CR within kMaxLine characters
};

class Parser {
public:
    std::vector<Event> feed(ByteView bytes);
    const DropCounters& dropped() const noexcept { return dropped_; }
    const std::string& last_error() const noexcept { return last_error_; }

private:
    std::string line_;
    bool overflow_ = false;
    DropCounters dropped_;
    std::string last_error_;
};

}  // namespace rig::slcan
