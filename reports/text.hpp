// Identifiers that end up in file names, log lines and certificates, and text made safe to
// print: a barcode is input from the outside world.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace rig::reports {

inline constexpr std::size_t kMaxIdLength = 64;

// Station ids, serial numbers, lots, fixture and operator ids: 1..64 characters of
// [A-Za-z0-9._-], starting with a letter or digit (so never "..", never a path, never a flag).
// Returns why `id` is not one, or nullopt when it is.
std::optional<std::string> id_problem(std::string_view id);
// A time bound for --since/--until: a prefix of 2026-11-24T14:41:19.998Z cut after a whole
// field (2026, 2026-11, 2026-11-24, 2026-11-24T14, ...T14:41, ...T14:41:19, ...). Why not, or nothing.
std::optional<std::string> time_prefix_problem(std::string_view t);

// The text with every control character and non-ASCII byte shown as \xNN, so that no
// input can forge a line, move the cursor or ring a bell on an operator's screen or in a log.
std::string printable(std::string_view text);

// UTC time as certificates carry it: 2026-11-23T10:00:00.000Z (fixed width, so times compare
// as text).
std::string utc_now();
bool is_timestamp(std::string_view text);
// Seconds since 1970 of such a time (0 for text that is not one).
double epoch_seconds(std::string_view timestamp);

}  // namespace rig::reports
